import { describe, expect, it } from "vitest";
import { applyJsonPatch, patchProblems } from "../../src/lib/json-patch";
import { convertPayload, isVersionDate, resolveVersion, type TypeVersion } from "../../src/versions/convert";

/** 2026-01-01: customer_id; 2026-03-01: renamed to customer; 2026-06-01: currency added. */
const VERSIONS: TypeVersion[] = [
  { version: "2026-01-01", downgrade: null },
  { version: "2026-03-01", downgrade: [{ op: "move", from: "/customer", path: "/customer_id" }] },
  { version: "2026-06-01", downgrade: [{ op: "remove", path: "/currency" }] },
];
const NAMES = VERSIONS.map((v) => v.version);
const ORDER = { customer: "cus_1", amount: 10, currency: "EUR" };

describe("resolveVersion", () => {
  it("picks the newest version at or before the pin, the first for an older or null pin, null when unversioned", () => {
    expect(resolveVersion(NAMES, "2026-06-01")).toBe("2026-06-01");
    expect(resolveVersion(NAMES, "2030-01-01")).toBe("2026-06-01");
    expect(resolveVersion(NAMES, "2026-05-31")).toBe("2026-03-01");
    expect(resolveVersion(NAMES, "2026-03-01")).toBe("2026-03-01");
    expect(resolveVersion(NAMES, "2026-02-28")).toBe("2026-01-01");
    expect(resolveVersion(NAMES, "1999-01-01")).toBe("2026-01-01");
    expect(resolveVersion(NAMES, null)).toBe("2026-01-01");
    expect(resolveVersion([], "2026-01-01")).toBeNull();
  });
});

describe("convertPayload", () => {
  it("applies each newer version's downgrade, newest first, down to the pinned version", () => {
    expect(convertPayload(ORDER, VERSIONS, "2026-06-01", "2026-06-01")).toEqual({ ok: true, data: ORDER, version: "2026-06-01" });
    expect(convertPayload(ORDER, VERSIONS, "2026-06-01", "2026-04-01")).toEqual({
      ok: true,
      data: { customer: "cus_1", amount: 10 },
      version: "2026-03-01",
    });
    expect(convertPayload(ORDER, VERSIONS, "2026-06-01", null)).toEqual({
      ok: true,
      data: { customer_id: "cus_1", amount: 10 },
      version: "2026-01-01",
    });
  });

  it("never upgrades: an event published at an older version goes as it is, saying so", () => {
    const old = { customer: "cus_1", amount: 10 };
    expect(convertPayload(old, VERSIONS, "2026-03-01", "2026-06-01")).toEqual({ ok: true, data: old, version: "2026-03-01" });
    expect(convertPayload(old, VERSIONS, "2026-03-01", "2026-01-01")).toEqual({
      ok: true,
      data: { customer_id: "cus_1", amount: 10 },
      version: "2026-01-01",
    });
  });

  it("leaves an event published before its type had versions alone", () => {
    expect(convertPayload(ORDER, VERSIONS, null, "2026-01-01")).toEqual({ ok: true, data: ORDER, version: null });
    expect(convertPayload(ORDER, [], null, null)).toEqual({ ok: true, data: ORDER, version: null });
  });

  it("stops at the first patch that does not apply, naming its version and operation, and changes nothing", () => {
    const data = { customer: "cus_1", amount: 10 };
    const before = structuredClone(data);
    const out = convertPayload(data, VERSIONS, "2026-06-01", "2026-01-01");
    expect(out).toMatchObject({ ok: false, version: "2026-06-01", index: 0 });
    expect(data).toEqual(before);
    // A failure in an older step, after a newer one applied: still nothing half-converted.
    const noCustomer = { amount: 10, currency: "EUR" };
    expect(convertPayload(noCustomer, VERSIONS, "2026-06-01", "2026-01-01")).toMatchObject({ ok: false, version: "2026-03-01", index: 0 });
    expect(noCustomer).toEqual({ amount: 10, currency: "EUR" });
  });

  it("keeps a stored patch as written when one application changes a value it added", () => {
    const steps: TypeVersion[] = [
      { version: "2026-01-01", downgrade: null },
      {
        version: "2026-02-01",
        downgrade: [
          { op: "add", path: "/legacy", value: { a: 1 } },
          { op: "add", path: "/legacy/b", value: 2 },
        ],
      },
    ];
    const first = convertPayload({}, steps, "2026-02-01", null);
    const second = convertPayload({}, steps, "2026-02-01", null);
    expect(first).toEqual({ ok: true, data: { legacy: { a: 1, b: 2 } }, version: "2026-01-01" });
    expect(second).toEqual(first);
    expect(steps[1]?.downgrade?.[0]).toEqual({ op: "add", path: "/legacy", value: { a: 1 } });
  });
});

describe("JSON Patch checks", () => {
  it("names the failing operation by index, and refuses what RFC 6902 does not define", () => {
    expect(patchProblems([{ op: "remove", path: "/a" }], "downgrade")).toEqual([]);
    expect(
      patchProblems(
        [
          { op: "remove", path: "/a" },
          { op: "_get", path: "/b" },
        ],
        "downgrade",
      )[0],
    ).toMatchObject({
      path: "downgrade.1",
      allowed: expect.arrayContaining(["move"]),
    });
    expect(patchProblems([{ op: "copy", path: "/a" }], "downgrade")[0]?.path).toBe("downgrade.0");
    expect(patchProblems([{ op: "test", path: "/a" }], "downgrade")[0]?.message).toContain("operation 0 (test)");
    expect(patchProblems([{ op: "remove", path: "a" }], "downgrade")[0]?.path).toBe("downgrade.0");
    expect(patchProblems([{ op: "move", from: "/x~", path: "/a" }], "downgrade")[0]?.message).toContain("from");
    expect(patchProblems([{ op: "replace", path: "/a~1b", value: null }], "downgrade")).toEqual([]);
  });

  it("applies to a copy and reports a failing test or missing path without the document", () => {
    const doc = { secret: "s3cr3t", n: 1 };
    const failed = applyJsonPatch(doc, [{ op: "test", path: "/n", value: 2 }]);
    expect(failed).toMatchObject({ ok: false, index: 0 });
    expect(JSON.stringify(failed)).not.toContain("s3cr3t");
    expect(applyJsonPatch(doc, [{ op: "replace", path: "/n", value: 5 }])).toEqual({ ok: true, result: { secret: "s3cr3t", n: 5 } });
    expect(doc.n).toBe(1);
    expect(applyJsonPatch(doc, [{ op: "add", path: "/__proto__/polluted", value: 1 }]).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("isVersionDate", () => {
  it("takes calendar dates only", () => {
    expect(isVersionDate("2026-06-01")).toBe(true);
    expect(isVersionDate("2024-02-29")).toBe(true);
    for (const bad of ["2026-02-30", "2026-13-01", "2026-6-1", "20260601", "2026-06-01T00:00:00Z", ""])
      expect(isVersionDate(bad)).toBe(false);
  });
});
