import { describe, expect, it } from "vitest";
import { call, expectProblem, fieldError, newKey, newRoomyTenant, newTenant } from "./helpers";

/** Every catalog also lists Hookgate's operational types (test/integration/operational-events.test.ts covers them). */
const OPERATIONAL = [
  "hookgate.credential.dormant",
  "hookgate.credential.expiring",
  "hookgate.credential.limit_approaching",
  "hookgate.credential.rate_limited",
  "hookgate.delivery.exhausted",
  "hookgate.delivery.failing",
  "hookgate.endpoint.degraded",
  "hookgate.endpoint.disabled",
  "hookgate.endpoint.recovered",
];
/** The tenant's own types of a list. */
const own = (rows: { owner: string }[]) => rows.filter((t) => t.owner !== "hookgate");

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIELDS = ["name", "owner", "description", "schema", "deprecated", "archived", "archivedAt", "versions", "createdAt", "updatedAt"];

async function createType(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/event-types", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe("POST /v1/event-types", () => {
  it("creates a type with description and schema; GET returns it", async () => {
    const { key } = await newRoomyTenant();
    const schema = { type: "object", required: ["amount"], properties: { amount: { type: "number" } } };
    const before = Date.now();
    const res = await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid", description: "An invoice was paid", schema } });
    expect(res.status, res.text).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([...FIELDS].sort());
    expect(res.body).toMatchObject({
      name: "invoice.paid",
      owner: "tenant",
      description: "An invoice was paid",
      schema,
      deprecated: false,
      archived: false,
      archivedAt: null,
    });
    expect(res.body.createdAt).toMatch(ISO);
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);

    const got = await call("GET", "/v1/event-types/invoice.paid", { key });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("accepts lowercase dotted names", async () => {
    const { key } = await newRoomyTenant();
    for (const name of ["invoice.paid", "a.b_c.d1", "user.profile_updated", "x.y.z.w"]) {
      const res = await call("POST", "/v1/event-types", { key, body: { name } });
      expect(res.status, `${name}: ${res.text}`).toBe(201);
      expect(res.body.name).toBe(name);
      expect(res.body.description).toBeNull();
      expect(res.body.schema).toBeNull();
    }
  });

  it("refuses names outside the rule with 422 naming `name`", async () => {
    const { key } = await newRoomyTenant();
    const bad = [
      "Invoice.Paid",
      "invoice.Paid",
      "invoice",
      "invoice..paid",
      "1a.b",
      "invoice.paid.",
      ".invoice.paid",
      "invoice-paid",
      "invoice.1paid",
      "invoice paid.x",
      "",
      "a.b".padEnd(101, "c"),
    ];
    for (const name of bad) {
      const res = await call("POST", "/v1/event-types", { key, body: { name } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "name").message, name).toBeTruthy();
    }
    const missing = await call("POST", "/v1/event-types", { key, body: {} });
    expectProblem(missing, 422, "validation_failed");
    fieldError(missing, "name");
    // Nothing was stored along the way.
    const list = await call("GET", "/v1/event-types?includeArchived=true", { key });
    expect(own(list.body.data)).toEqual([]);
  });

  it("refuses unknown fields", async () => {
    const { key } = await newRoomyTenant();
    const res = await call("POST", "/v1/event-types", { key, body: { name: "a.b", color: "red" } });
    expectProblem(res, 422, "validation_failed");
  });

  it("validates the schema: a bad `type` lists the allowed types", async () => {
    const { key } = await newRoomyTenant();
    const top = await call("POST", "/v1/event-types", { key, body: { name: "a.top", schema: { type: "strng" } } });
    expectProblem(top, 422, "validation_failed");
    const e = fieldError(top, "schema.type");
    expect(e.allowed).toEqual(expect.arrayContaining(["string", "number", "integer", "boolean", "object", "array", "null"]));
    expect(e.allowed).not.toContain("strng");

    const nested = await call("POST", "/v1/event-types", {
      key,
      body: { name: "a.nested", schema: { type: "object", properties: { amount: { type: "money" } } } },
    });
    expectProblem(nested, 422, "validation_failed");
    expect(fieldError(nested, "schema.properties.amount.type").allowed).toContain("number");

    const required = await call("POST", "/v1/event-types", { key, body: { name: "a.req", schema: { required: "amount" } } });
    expectProblem(required, 422, "validation_failed");
    fieldError(required, "schema.required");

    const notObject = await call("POST", "/v1/event-types", { key, body: { name: "a.arr", schema: ["string"] } });
    expectProblem(notObject, 422, "validation_failed");
    expect(notObject.body.errors[0].path).toMatch(/^schema/);

    const remoteRef = await call("POST", "/v1/event-types", {
      key,
      body: { name: "a.ref", schema: { $ref: "https://evil.example/s.json" } },
    });
    expectProblem(remoteRef, 422, "validation_failed");
    fieldError(remoteRef, "schema.$ref");

    const list = await call("GET", "/v1/event-types?includeArchived=true", { key });
    expect(own(list.body.data)).toEqual([]);
  });

  it("refuses a duplicate live name with 409 duplicate_name", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, { name: "invoice.paid", description: "first" });
    const dup = await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid", description: "second" } });
    expectProblem(dup, 409, "duplicate_name");
    expect(dup.body.detail).toContain("invoice.paid");
    const got = await call("GET", "/v1/event-types/invoice.paid", { key });
    expect(got.body.description).toBe("first");
  });

  it("names are per tenant: another tenant may use the same name", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    await createType(a.key, { name: "invoice.paid", description: "a" });
    await createType(b.key, { name: "invoice.paid", description: "b" });
    expect((await call("GET", "/v1/event-types/invoice.paid", { key: a.key })).body.description).toBe("a");
    expect((await call("GET", "/v1/event-types/invoice.paid", { key: b.key })).body.description).toBe("b");
  });
});

describe("GET /v1/event-types", () => {
  it("lists by name with limit and an opaque cursor", async () => {
    const { key } = await newRoomyTenant();
    const names = ["zeta.one", "alpha.one", "mid.dle", "alpha.two", "beta.one"];
    for (const name of names) await createType(key, { name });
    // Hookgate's operational types are in every catalog, merged into the name order.
    const sorted = [...names, ...OPERATIONAL].sort();

    const all = await call("GET", "/v1/event-types", { key });
    expect(all.status, all.text).toBe(200);
    expect(all.body.data.map((t: any) => t.name)).toEqual(sorted);
    expect(all.body.nextCursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await call("GET", `/v1/event-types?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { key });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((t: any) => t.name));
      cursor = res.body.nextCursor;
      if (cursor) expect(cursor).not.toContain(".");
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(Math.ceil(sorted.length / 2));
    expect(seen).toEqual(sorted);
  });

  it("refuses a bad limit or cursor with 400 invalid_query", async () => {
    const { key } = await newRoomyTenant();
    for (const q of ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "includeArchived=yes"]) {
      const res = await call("GET", `/v1/event-types?${q}`, { key });
      expectProblem(res, 400, "invalid_query");
    }
  });
});

describe("PATCH /v1/event-types/:name", () => {
  it("updates description, schema and deprecated; the schema then applies to publishes", async () => {
    const { key } = await newRoomyTenant();
    const created = await createType(key, { name: "order.placed", description: "old" });

    const desc = await call("PATCH", "/v1/event-types/order.placed", { key, body: { description: "new" } });
    expect(desc.status, desc.text).toBe(200);
    expect(desc.body).toMatchObject({ name: "order.placed", description: "new", deprecated: false, schema: null });
    expect(Date.parse(desc.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));

    const okBefore = await call("POST", "/v1/events", { key, body: { type: "order.placed", data: { total: "ten" } } });
    expect(okBefore.status, okBefore.text).toBe(202);

    const schema = { type: "object", required: ["total"], properties: { total: { type: "number" } } };
    const withSchema = await call("PATCH", "/v1/event-types/order.placed", { key, body: { schema, deprecated: true } });
    expect(withSchema.status, withSchema.text).toBe(200);
    expect(withSchema.body).toMatchObject({ description: "new", schema, deprecated: true });

    const got = await call("GET", "/v1/event-types/order.placed", { key });
    expect(got.body).toMatchObject({ description: "new", schema, deprecated: true, archived: false });
    // The PATCH response is what is stored, updatedAt included.
    expect(got.body).toEqual(withSchema.body);

    const refused = await call("POST", "/v1/events", { key, body: { type: "order.placed", data: { total: "ten" } } });
    expectProblem(refused, 422, "validation_failed");
    fieldError(refused, "data.total");
    // Deprecated types can still be published.
    const accepted = await call("POST", "/v1/events", { key, body: { type: "order.placed", data: { total: 10 } } });
    expect(accepted.status, accepted.text).toBe(202);

    const cleared = await call("PATCH", "/v1/event-types/order.placed", {
      key,
      body: { schema: null, description: null, deprecated: false },
    });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body).toMatchObject({ schema: null, description: null, deprecated: false });
    const afterClear = await call("POST", "/v1/events", { key, body: { type: "order.placed", data: { total: "ten" } } });
    expect(afterClear.status, afterClear.text).toBe(202);
  });

  it("validates the patch body", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, { name: "order.placed" });
    const badSchema = await call("PATCH", "/v1/event-types/order.placed", { key, body: { schema: { type: "bogus" } } });
    expectProblem(badSchema, 422, "validation_failed");
    expect(fieldError(badSchema, "schema.type").allowed).toContain("object");
    const rename = await call("PATCH", "/v1/event-types/order.placed", { key, body: { name: "order.renamed" } });
    expectProblem(rename, 422, "validation_failed");
    const badDeprecated = await call("PATCH", "/v1/event-types/order.placed", { key, body: { deprecated: "yes" } });
    expectProblem(badDeprecated, 422, "validation_failed");
    fieldError(badDeprecated, "deprecated");
    expect((await call("GET", "/v1/event-types/order.placed", { key })).body.schema).toBeNull();
  });

  it("404 for an unknown or archived type", async () => {
    const { key } = await newRoomyTenant();
    expectProblem(await call("PATCH", "/v1/event-types/no.such", { key, body: { description: "x" } }), 404, "not_found");
    await createType(key, { name: "gone.soon" });
    expect((await call("DELETE", "/v1/event-types/gone.soon", { key })).status).toBe(204);
    expectProblem(await call("PATCH", "/v1/event-types/gone.soon", { key, body: { description: "x" } }), 404, "not_found");
  });
});

describe("DELETE /v1/event-types/:name (archive)", () => {
  it("archives: GET shows it archived, publishing it is refused, the list hides it, re-creating restores it", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, { name: "invoice.paid", description: "v1", schema: { type: "object" } });
    await createType(key, { name: "invoice.voided" });
    const published = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 1 } } });
    expect(published.status, published.text).toBe(202);

    const del = await call("DELETE", "/v1/event-types/invoice.paid", { key });
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe("");

    const got = await call("GET", "/v1/event-types/invoice.paid", { key });
    expect(got.status, got.text).toBe(200);
    expect(got.body.archived).toBe(true);
    expect(got.body.archivedAt).toMatch(ISO);
    expect(got.body.description).toBe("v1");

    const refused = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 2 } } });
    expectProblem(refused, 422, "validation_failed");
    const typeError = fieldError(refused, "type");
    expect(typeError.allowed).toEqual(["invoice.voided"]);

    // History stays: the earlier event is still there.
    const event = await call("GET", `/v1/events/${published.body.id}`, { key });
    expect(event.status, event.text).toBe(200);
    expect(event.body.type).toBe("invoice.paid");

    const list = await call("GET", "/v1/event-types", { key });
    expect(own(list.body.data).map((t: any) => t.name)).toEqual(["invoice.voided"]);
    const withArchived = await call("GET", "/v1/event-types?includeArchived=true", { key });
    expect(own(withArchived.body.data).map((t: any) => [t.name, t.archived])).toEqual([
      ["invoice.paid", true],
      ["invoice.voided", false],
    ]);
    const explicitFalse = await call("GET", "/v1/event-types?includeArchived=false", { key });
    expect(own(explicitFalse.body.data).map((t: any) => t.name)).toEqual(["invoice.voided"]);

    // Archiving twice is a 404: it is no longer a live type.
    expectProblem(await call("DELETE", "/v1/event-types/invoice.paid", { key }), 404, "not_found");

    const restored = await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid", description: "v2" } });
    expect(restored.status, restored.text).toBe(201);
    expect(restored.body).toMatchObject({ name: "invoice.paid", description: "v2", schema: null, archived: false, archivedAt: null });
    const again = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: "any" } });
    expect(again.status, again.text).toBe(202);
    expect(own((await call("GET", "/v1/event-types", { key })).body.data).map((t: any) => t.name)).toEqual([
      "invoice.paid",
      "invoice.voided",
    ]);
  });

  it("404 for an unknown type", async () => {
    const { key } = await newRoomyTenant();
    expectProblem(await call("DELETE", "/v1/event-types/no.such", { key }), 404, "not_found");
    expectProblem(await call("GET", "/v1/event-types/no.such", { key }), 404, "not_found");
  });
});

describe("event type quota", () => {
  it("refuses the type past quotas.eventTypes with 409; archiving frees a slot", async () => {
    const { key } = await newRoomyTenant({ quotas: { eventTypes: 2 } });
    await createType(key, { name: "q.one" });
    await createType(key, { name: "q.two" });
    const third = await call("POST", "/v1/event-types", { key, body: { name: "q.three" } });
    expectProblem(third, 409, "quota_exceeded");
    expect(third.body.limit).toBe(2);
    // A duplicate of a live name is still reported as a duplicate at the quota.
    expectProblem(await call("POST", "/v1/event-types", { key, body: { name: "q.one" } }), 409, "duplicate_name");

    expect((await call("DELETE", "/v1/event-types/q.one", { key })).status).toBe(204);
    await createType(key, { name: "q.three" });
    // Full again: restoring the archived one needs a slot too.
    expectProblem(await call("POST", "/v1/event-types", { key, body: { name: "q.one" } }), 409, "quota_exceeded");
    expect((await call("GET", "/v1/event-types/q.one", { key })).body.archived).toBe(true);

    const live = await call("GET", "/v1/event-types", { key });
    expect(own(live.body.data).map((t: any) => t.name)).toEqual(["q.three", "q.two"]);
  });

  it("concurrent creates never overshoot the quota", async () => {
    const { key } = await newRoomyTenant({ quotas: { eventTypes: 3 } });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call("POST", "/v1/event-types", { key, body: { name: `race.t${i}` } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
    for (const r of results.filter((r) => r.status !== 201)) expectProblem(r, 409, "quota_exceeded");
    expect(own((await call("GET", "/v1/event-types", { key })).body.data)).toHaveLength(3);
  });
});

describe("event types: scopes and tenants", () => {
  it("reads need events:read and writes events:write", async () => {
    const { key: admin } = await newRoomyTenant();
    await createType(admin, { name: "scope.check" });
    const reader = await newKey(admin, { scopes: ["events:read"] });
    const writer = await newKey(admin, { scopes: ["events:write"] });
    const other = await newKey(admin, { scopes: ["webhooks:read", "webhooks:write"] });

    expect((await call("GET", "/v1/event-types", { key: reader.key })).status).toBe(200);
    expect((await call("GET", "/v1/event-types/scope.check", { key: reader.key })).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", "/v1/event-types", { name: "scope.other" }],
      ["PATCH", "/v1/event-types/scope.check", { description: "x" }],
      ["DELETE", "/v1/event-types/scope.check", undefined],
    ] as const) {
      const res = await call(method, path, { key: reader.key, ...(body && { body }) });
      expectProblem(res, 403, "insufficient_scope");
      expect(res.body.requiredScope).toBe("events:write");
    }

    const read = await call("GET", "/v1/event-types", { key: writer.key });
    expectProblem(read, 403, "insufficient_scope");
    expect(read.body.requiredScope).toBe("events:read");
    expect((await call("POST", "/v1/event-types", { key: writer.key, body: { name: "scope.written" } })).status).toBe(201);

    const none = await call("GET", "/v1/event-types/scope.check", { key: other.key });
    expectProblem(none, 403, "insufficient_scope");
    expect(none.body.requiredScope).toBe("events:read");

    const apiRead = await newKey(admin, { scopes: ["api:read"] });
    expect((await call("GET", "/v1/event-types", { key: apiRead.key })).status).toBe(200);
  });

  it("another tenant's type is a 404 (GET, PATCH, DELETE) and is left alone", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    await createType(a.key, { name: "private.thing", description: "a's" });
    expectProblem(await call("GET", "/v1/event-types/private.thing", { key: b.key }), 404, "not_found");
    expectProblem(await call("PATCH", "/v1/event-types/private.thing", { key: b.key, body: { description: "b's" } }), 404, "not_found");
    expectProblem(await call("DELETE", "/v1/event-types/private.thing", { key: b.key }), 404, "not_found");
    expect(own((await call("GET", "/v1/event-types", { key: b.key })).body.data)).toEqual([]);
    const got = await call("GET", "/v1/event-types/private.thing", { key: a.key });
    expect(got.body).toMatchObject({ description: "a's", archived: false });
  });

  it("needs a credential", async () => {
    const res = await call("GET", "/v1/event-types");
    expectProblem(res, 401, "unauthorized");
    const { key } = await newTenant();
    expect((await call("GET", "/v1/event-types", { key })).status).toBe(200);
  });
});
