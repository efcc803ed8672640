import { describe, expect, it } from "vitest";
import { filterProblems, matchesFilter } from "../../src/webhooks/filter";

const event = {
  type: "invoice.paid",
  data: {
    amount: 150,
    currency: "EUR",
    customer: { id: "cus_1", country: "FR", vip: true },
    tags: ["new", "b2b", "eu"],
    lines: [
      { sku: "A", qty: 2 },
      { sku: "B", qty: 1 },
    ],
    note: null,
  },
};

describe("matchesFilter", () => {
  it.each([
    ["no filter", null, true],
    ["type by equality", { type: "invoice.paid" }, true],
    ["type mismatch", { type: "invoice.voided" }, false],
    ["nested object, recursively", { data: { customer: { country: "FR" } } }, true],
    ["nested object, one field off", { data: { customer: { country: "FR", vip: false } } }, false],
    ["null by equality", { data: { note: null } }, true],
    ["array by containment", { data: { tags: ["eu", "new"] } }, true],
    ["array with an element missing", { data: { tags: ["eu", "us"] } }, false],
    ["array of objects by containment", { data: { lines: [{ sku: "B" }] } }, true],
    ["array of objects, no element matches", { data: { lines: [{ sku: "B", qty: 2 }] } }, false],
    ["array filter against a non-array", { data: { currency: ["EUR"] } }, false],
    ["$eq", { data: { amount: { $eq: 150 } } }, true],
    ["$eq on an object", { data: { customer: { $eq: { id: "cus_1", country: "FR", vip: true } } } }, true],
    ["$neq", { data: { currency: { $neq: "USD" } } }, true],
    ["$neq equal", { data: { currency: { $neq: "EUR" } } }, false],
    ["$neq on a missing field", { data: { missing: { $neq: 1 } } }, true],
    ["$gt", { data: { amount: { $gt: 100 } } }, true],
    ["$gt boundary", { data: { amount: { $gt: 150 } } }, false],
    ["$gte boundary", { data: { amount: { $gte: 150 } } }, true],
    ["$lt", { data: { amount: { $lt: 100 } } }, false],
    ["$lte boundary", { data: { amount: { $lte: 150 } } }, true],
    ["$gt with strings", { data: { currency: { $gt: "AAA" } } }, true],
    ["$gt type mismatch (string vs number)", { data: { currency: { $gt: 1 } } }, false],
    ["$gt on a missing field", { data: { missing: { $gt: 1 } } }, false],
    ["range", { data: { amount: { $gte: 100, $lt: 200 } } }, true],
    ["$in", { data: { currency: { $in: ["EUR", "USD"] } } }, true],
    ["$in miss", { data: { currency: { $in: ["GBP"] } } }, false],
    ["$in on a missing field", { data: { missing: { $in: [null] } } }, false],
    ["$nin", { data: { currency: { $nin: ["GBP"] } } }, true],
    ["$nin hit", { data: { currency: { $nin: ["EUR"] } } }, false],
    ["$nin on a missing field", { data: { missing: { $nin: ["x"] } } }, true],
    ["$startsWith", { type: { $startsWith: "invoice." } }, true],
    ["$startsWith on a number", { data: { amount: { $startsWith: "1" } } }, false],
    ["$endsWith", { data: { customer: { id: { $endsWith: "_1" } } } }, true],
    ["$exist true", { data: { note: { $exist: true } } }, true],
    ["$exist false on a missing field", { data: { missing: { $exist: false } } }, true],
    ["$exist true on a missing field", { data: { missing: { $exist: true } } }, false],
    ["$or at the top", { $or: [{ type: "x.y" }, { data: { amount: { $gt: 100 } } }] }, true],
    ["$or none", { $or: [{ type: "x.y" }, { data: { amount: { $gt: 1000 } } }] }, false],
    ["$and", { $and: [{ type: "invoice.paid" }, { data: { currency: "EUR" } }] }, true],
    ["$and one fails", { $and: [{ type: "invoice.paid" }, { data: { currency: "USD" } }] }, false],
    ["$not", { data: { currency: { $not: { $in: ["USD", "GBP"] } } } }, true],
    ["$not of a match", { $not: { type: "invoice.paid" } }, false],
    ["$or on a value", { data: { amount: { $or: [{ $lt: 10 }, { $gt: 100 }] } } }, true],
    ["the example", { data: { amount: { $gte: 100 }, currency: { $in: ["EUR", "USD"] } } }, true],
    ["a field missing in a nested object", { data: { customer: { email: "a@b" } } }, false],
    ["descending into a non-object", { data: { amount: { value: 1 } } }, false],
  ])("%s", (_label, filter, expected) => {
    expect(matchesFilter(filter as Record<string, unknown> | null, event)).toBe(expected);
  });
});

describe("filterProblems", () => {
  it("accepts every operator used properly", () => {
    expect(
      filterProblems({
        type: { $startsWith: "a", $endsWith: "b" },
        data: { a: { $eq: 1, $neq: 2, $gt: 1, $gte: 1, $lt: 5, $lte: 5, $in: [1], $nin: [2], $exist: true }, b: { $not: { $eq: 1 } } },
      }),
    ).toEqual([]);
    expect(filterProblems({ $or: [{ type: "a.b" }], $and: [{ data: {} }], $not: { type: "c.d" } })).toEqual([]);
  });
  it("names an unknown operator, listing the valid ones", () => {
    const [p] = filterProblems({ data: { amount: { $between: [1, 2] } } });
    expect(p?.path).toBe("filter.data.amount.$between");
    expect(p?.allowed).toContain("$gte");
  });
  it.each([
    [{ $or: [] }, "filter.$or"],
    [{ $and: {} }, "filter.$and"],
    [{ data: { x: { $in: "EUR" } } }, "filter.data.x.$in"],
    [{ data: { x: { $exist: "yes" } } }, "filter.data.x.$exist"],
    [{ data: { x: { $startsWith: 1 } } }, "filter.data.x.$startsWith"],
    [{ data: { x: { $gt: [1] } } }, "filter.data.x.$gt"],
    [{ data: { x: { $gt: 1, y: 2 } } }, "filter.data.x"],
    [{ $or: [{ data: { $nope: 1 } }] }, "filter.$or.0.data.$nope"],
  ])("refuses %j at %s", (filter, path) => {
    expect(filterProblems(filter).map((p) => p.path)).toContain(path);
  });
});
