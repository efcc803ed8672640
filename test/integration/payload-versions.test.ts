import { afterEach, describe, expect, it, vi } from "vitest";
import { call, DELIVERY_RATE_LIMITS, expectProblem, fieldError, newOperatorType, newTenant, unique } from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** A tenant with one unversioned type (`order.created`, with a schema); each test its own. */
async function typeSetup(schema?: Record<string, unknown>) {
  const { key, tenant } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
  const name = `order_${unique("v").replaceAll("-", "_")}.created`;
  const created = await call("POST", "/v1/event-types", { key, body: { name, ...(schema && { schema }) } });
  expect(created.status).toBe(201);
  expect(created.body.versions).toEqual([]);
  return { key, tenantId: tenant.id as string, name };
}

const addVersion = (key: string, name: string, body: Record<string, unknown>) =>
  call("POST", `/v1/event-types/${name}/versions`, { key, body });

/** customer_id became customer on 2026-03-01; currency was added on 2026-06-01. */
const RENAMED = [{ op: "move", from: "/customer", path: "/customer_id" }];
const ADDED = [{ op: "remove", path: "/currency" }];

describe("event type versions", () => {
  it("are added oldest first; the type shows them, the first one keeping the type's schema", async () => {
    const v1Schema = { type: "object", required: ["customer_id"] };
    const { key, name } = await typeSetup(v1Schema);
    const first = await addVersion(key, name, { version: "2026-01-01" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ version: "2026-01-01", schema: v1Schema });
    expect(first.body).not.toHaveProperty("downgrade");
    const v2Schema = { type: "object", required: ["customer"] };
    expect((await addVersion(key, name, { version: "2026-03-01", schema: v2Schema, downgrade: RENAMED })).status).toBe(201);
    expect((await addVersion(key, name, { version: "2026-06-01", downgrade: ADDED })).status).toBe(201);

    const type = (await call("GET", `/v1/event-types/${name}`, { key })).body;
    expect(type.versions.map((v: { version: string }) => v.version)).toEqual(["2026-01-01", "2026-03-01", "2026-06-01"]);
    expect(type.versions[1]).toMatchObject({ schema: v2Schema, downgrade: RENAMED });
    expect(type.versions[2]).toMatchObject({ schema: null, downgrade: ADDED });
    // Publishers send the newest version: its schema (none here) is what they are checked against.
    expect(type.schema).toBeNull();
    const listed = (await call("GET", "/v1/event-types?limit=100", { key })).body.data.find((t: { name: string }) => t.name === name);
    expect(listed.versions).toHaveLength(3);
    const audit = await call("GET", "/v1/audit-log?action=event_type.version_added", { key });
    expect(audit.body.data.map((e: { details: { version: string } }) => e.details.version)).toEqual([
      "2026-06-01",
      "2026-03-01",
      "2026-01-01",
    ]);
  });

  it("a newer version's schema checks publishers; PATCH schema changes the newest version's", async () => {
    const { key, name } = await typeSetup();
    await addVersion(key, name, { version: "2026-01-01" });
    const schema = { type: "object", required: ["customer"] };
    await addVersion(key, name, { version: "2026-03-01", schema, downgrade: RENAMED });
    const bad = await call("POST", "/v1/events", { key, body: { type: name, data: { customer_id: "c" } } });
    expectProblem(bad, 422, "validation_failed");
    expect((await call("POST", "/v1/events", { key, body: { type: name, data: { customer: "c" } } })).status).toBe(202);
    const patched = await call("PATCH", `/v1/event-types/${name}`, { key, body: { schema: { type: "object" } } });
    expect(patched.body.versions[1].schema).toEqual({ type: "object" });
    expect(patched.body.versions[0].schema).toBeNull();
  });

  it("refuses bad versions and bad patches with a 422 naming the field or the operation", async () => {
    const { key, name } = await typeSetup();
    fieldError(expectProblemAnd(await addVersion(key, name, { version: "2026-02-30" }), 422), "version");
    fieldError(expectProblemAnd(await addVersion(key, name, { version: "June 2026" }), 422), "version");
    // The first version has nothing older to turn into.
    fieldError(expectProblemAnd(await addVersion(key, name, { version: "2026-01-01", downgrade: ADDED }), 422), "downgrade");
    expect((await addVersion(key, name, { version: "2026-01-01" })).status).toBe(201);
    // Every later one must say how.
    fieldError(expectProblemAnd(await addVersion(key, name, { version: "2026-03-01" }), 422), "downgrade");
    const unknownOp = await addVersion(key, name, {
      version: "2026-03-01",
      downgrade: [
        { op: "remove", path: "/a" },
        { op: "add", path: "/b", value: 1 },
        { op: "rename", path: "/c" },
      ],
    });
    expect(fieldError(expectProblemAnd(unknownOp, 422), "downgrade.2.op").allowed).toContain("move");
    const noFrom = await addVersion(key, name, {
      version: "2026-03-01",
      downgrade: [
        { op: "remove", path: "/a" },
        { op: "move", path: "/b" },
      ],
    });
    expect(fieldError(expectProblemAnd(noFrom, 422), "downgrade.1").message).toMatch(/operation 1 \(move\).*from/);
    const noValue = await addVersion(key, name, { version: "2026-03-01", downgrade: [{ op: "add", path: "/a" }] });
    fieldError(expectProblemAnd(noValue, 422), "downgrade.0");
    const badPointer = await addVersion(key, name, { version: "2026-03-01", downgrade: [{ op: "remove", path: "a/b" }] });
    fieldError(expectProblemAnd(badPointer, 422), "downgrade.0");
    const badEscape = await addVersion(key, name, { version: "2026-03-01", downgrade: [{ op: "remove", path: "/a~2" }] });
    fieldError(expectProblemAnd(badEscape, 422), "downgrade.0");
    // Nothing was stored by the refusals.
    expect((await call("GET", `/v1/event-types/${name}`, { key })).body.versions).toHaveLength(1);
    // Dates only go forward; the same date twice is a conflict.
    expectProblem(await addVersion(key, name, { version: "2026-01-01" }), 409, "duplicate_name");
    fieldError(expectProblemAnd(await addVersion(key, name, { version: "2025-12-31", downgrade: ADDED }), 422), "version");
    expectProblem(await addVersion(key, name, { version: "2026-03-01", downgrade: ADDED, extra: 1 }), 422, "validation_failed");
  });

  it("404 for an unknown, archived or other tenant's type; 403 for the operator's and Hookgate's", async () => {
    const { key, name } = await typeSetup();
    const other = await typeSetup();
    expectProblem(await addVersion(key, other.name, { version: "2026-01-01" }), 404, "not_found");
    expectProblem(await addVersion(key, "nothing.here", { version: "2026-01-01" }), 404, "not_found");
    expectProblem(await addVersion(key, "hookgate.endpoint.disabled", { version: "2026-01-01" }), 403, "reserved_event_type");
    const operatorType = await newOperatorType();
    expectProblem(await addVersion(key, operatorType.name, { version: "2026-01-01" }), 403, "operator_event_type");
    expect((await call("DELETE", `/v1/event-types/${name}`, { key })).status).toBe(204);
    expectProblem(await addVersion(key, name, { version: "2026-01-01" }), 404, "not_found");
    // Without events:write.
    const reader = await call("POST", "/v1/keys", { key: other.key, body: { name: unique("k"), scopes: ["events:read"] } });
    expectProblem(await addVersion(reader.body.key, other.name, { version: "2026-01-01" }), 403, "insufficient_scope");
    expect((await call("GET", `/v1/event-types/${other.name}`, { key: other.key })).body.versions).toEqual([]);
  });

  it("the operator versions its own types at /admin/event-types/:name/versions, and tenants see them", async () => {
    const operatorType = await newOperatorType();
    const path = `/admin/event-types/${operatorType.name}/versions`;
    expect((await call("POST", path, { admin: true, body: { version: "2026-01-01" } })).status).toBe(201);
    const second = await call("POST", path, { admin: true, body: { version: "2026-02-01", downgrade: ADDED } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: "2026-02-01", downgrade: ADDED });
    const { key } = await newTenant();
    const seen = await call("GET", `/v1/event-types/${operatorType.name}`, { key });
    expect(seen.body.versions.map((v: { version: string }) => v.version)).toEqual(["2026-01-01", "2026-02-01"]);
    expectProblem(await call("POST", path, { body: { version: "2026-03-01", downgrade: ADDED } }), 401, "unauthorized");
  });
});

describe("a subscription's version", () => {
  it("defaults to its types' newest at creation (null while none has versions); PATCH moves it", async () => {
    const { key, name } = await typeSetup();
    const before = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/a", eventTypes: [name] } });
    expect(before.body.version).toBeNull();
    await addVersion(key, name, { version: "2026-01-01" });
    await addVersion(key, name, { version: "2026-03-01", downgrade: RENAMED });
    const after = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/b", eventTypes: ["*"] } });
    expect(after.body.version).toBe("2026-03-01");
    const pinned = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/c", eventTypes: [name], version: "2026-02-15" },
    });
    expect(pinned.body.version).toBe("2026-02-15");
    const moved = await call("PATCH", `/v1/webhooks/${pinned.body.id}`, { key, body: { version: "2026-03-01" } });
    expect(moved.status).toBe(200);
    expect(moved.body.version).toBe("2026-03-01");
    expect((await call("GET", `/v1/webhooks/${pinned.body.id}`, { key })).body.version).toBe("2026-03-01");
    // Still pinned after a newer version arrives.
    await addVersion(key, name, { version: "2026-06-01", downgrade: ADDED });
    expect((await call("GET", `/v1/webhooks/${after.body.id}`, { key })).body.version).toBe("2026-03-01");
    for (const version of ["2026-13-01", "yesterday", ""]) {
      fieldError(expectProblemAnd(await call("PATCH", `/v1/webhooks/${pinned.body.id}`, { key, body: { version } }), 422), "version");
    }
    fieldError(
      expectProblemAnd(
        await call("POST", "/v1/webhooks", {
          key,
          body: { url: "https://hooks.example.com/d", eventTypes: [name], version: "2026-02-31" },
        }),
        422,
      ),
      "version",
    );
    expect((await call("GET", `/v1/webhooks/${pinned.body.id}`, { key })).body.version).toBe("2026-03-01");
  });
});

function expectProblemAnd(res: Awaited<ReturnType<typeof call>>, status: number) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return res;
}
