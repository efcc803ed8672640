import { describe, expect, it } from "vitest";
import {
  allPages,
  call,
  expectProblem,
  fieldError,
  newOperatorType,
  newRoomyTenant,
  operatorAudit,
  type Result,
  uniqueTypeName,
} from "./helpers";

const FIELDS = ["archived", "archivedAt", "createdAt", "deprecated", "description", "name", "owner", "schema", "updatedAt", "versions"];
const SCHEMA = { type: "object", required: ["score"], properties: { score: { type: "number" } } };

async function tenantType(key: string, name: string): Promise<Result> {
  return call("POST", "/v1/event-types", { key, body: { name } });
}

describe("/admin/event-types: authentication", () => {
  const routes: [string, string][] = [
    ["POST", "/admin/event-types"],
    ["GET", "/admin/event-types"],
    ["GET", "/admin/event-types/test.completed"],
    ["PATCH", "/admin/event-types/test.completed"],
    ["DELETE", "/admin/event-types/test.completed"],
    ["GET", "/admin/audit-log"],
  ];
  it.each(routes)("%s %s without a token → 401, with a wrong one → 401 invalid_credential", async (method, path) => {
    const body = method === "POST" || method === "PATCH" ? { name: uniqueTypeName(), description: "x" } : undefined;
    const anonymous = await call(method, path, { body });
    expectProblem(anonymous, 401, "unauthorized");
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expectProblem(
      await call(method, path, { body, headers: { authorization: "Bearer not-the-admin-token-at-all" } }),
      401,
      "invalid_credential",
    );
  });

  it("a tenant key is not the operator's token", async () => {
    const { key } = await newRoomyTenant();
    expectProblem(await call("POST", "/admin/event-types", { key, body: { name: uniqueTypeName() } }), 401, "invalid_credential");
    expectProblem(await call("GET", "/admin/audit-log", { key }), 401, "invalid_credential");
  });
});

describe("the operator's catalog", () => {
  it("creates a type with owner operator; GET, list and PATCH show it", async () => {
    const name = uniqueTypeName("test");
    const created = await call("POST", "/admin/event-types", {
      admin: true,
      body: { name, description: "A test finished", schema: SCHEMA },
    });
    expect(created.status, created.text).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(FIELDS);
    expect(created.body).toMatchObject({ name, owner: "operator", description: "A test finished", schema: SCHEMA, archived: false });

    const got = await call("GET", `/admin/event-types/${name}`, { admin: true });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toEqual(created.body);
    const listed = await allPages("/admin/event-types", { admin: true });
    expect(listed.items.find((t) => t.name === name)).toEqual(created.body);
    // The operator's catalog, plus Hookgate's operational types, which are in every catalog.
    expect(listed.items.every((t) => t.owner === "operator" || t.owner === "hookgate")).toBe(true);

    const patched = await call("PATCH", `/admin/event-types/${name}`, { admin: true, body: { description: "Finished", deprecated: true } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ name, owner: "operator", description: "Finished", deprecated: true, schema: SCHEMA });
  });

  it("validates like a tenant's catalog: name rule, bad schema, unknown fields (422), duplicates (409)", async () => {
    for (const name of ["Test.Completed", "test", "test..x", ""]) {
      const res = await call("POST", "/admin/event-types", { admin: true, body: { name } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "name");
    }
    const badSchema = await call("POST", "/admin/event-types", {
      admin: true,
      body: { name: uniqueTypeName(), schema: { type: "strng" } },
    });
    expectProblem(badSchema, 422, "validation_failed");
    expect(fieldError(badSchema, "schema.type").allowed).toContain("string");
    expectProblem(
      await call("POST", "/admin/event-types", { admin: true, body: { name: uniqueTypeName(), color: "red" } }),
      422,
      "validation_failed",
    );

    const { name } = await newOperatorType();
    expectProblem(await call("POST", "/admin/event-types", { admin: true, body: { name } }), 409, "duplicate_name");
    const badPatch = await call("PATCH", `/admin/event-types/${name}`, { admin: true, body: { schema: { type: "money" } } });
    expectProblem(badPatch, 422, "validation_failed");
  });

  it("404 for an unknown name, and for a tenant's type (the operator's catalog holds its own only)", async () => {
    const { key } = await newRoomyTenant();
    const own = uniqueTypeName("tenant");
    expect((await tenantType(key, own)).status).toBe(201);
    for (const name of ["nothing.here", own]) {
      expectProblem(await call("GET", `/admin/event-types/${name}`, { admin: true }), 404, "not_found");
      expectProblem(await call("PATCH", `/admin/event-types/${name}`, { admin: true, body: { description: "x" } }), 404, "not_found");
      expectProblem(await call("DELETE", `/admin/event-types/${name}`, { admin: true }), 404, "not_found");
    }
    const list = await allPages("/admin/event-types?includeArchived=true", { admin: true });
    expect(list.items.map((t) => t.name)).not.toContain(own);
    // The tenant's type is untouched.
    expect((await call("GET", `/v1/event-types/${own}`, { key })).body).toMatchObject({ owner: "tenant", description: null });
  });

  it("DELETE archives: gone from lists unless includeArchived, GET still shows it, re-creating brings it back", async () => {
    const { name } = await newOperatorType({ description: "first" });
    const { key } = await newRoomyTenant();
    const del = await call("DELETE", `/admin/event-types/${name}`, { admin: true });
    expect(del.status, del.text).toBe(204);
    expect((await allPages("/admin/event-types", { admin: true })).items.map((t) => t.name)).not.toContain(name);
    expect((await allPages("/v1/event-types", { key })).items.map((t) => t.name)).not.toContain(name);
    const archived = await allPages("/v1/event-types?includeArchived=true", { key });
    expect(archived.items.find((t) => t.name === name)).toMatchObject({ owner: "operator", archived: true });
    expect((await call("GET", `/v1/event-types/${name}`, { key })).body).toMatchObject({ owner: "operator", archived: true });
    expectProblem(await call("DELETE", `/admin/event-types/${name}`, { admin: true }), 404, "not_found");
    // An archived operator name stays the operator's.
    expectProblem(await tenantType(key, name), 409, "duplicate_name");

    const back = await call("POST", "/admin/event-types", { admin: true, body: { name, description: "again" } });
    expect(back.status, back.text).toBe(201);
    expect(back.body).toMatchObject({ owner: "operator", archived: false, description: "again" });
  });

  it("is not bound by any tenant's eventTypes quota", async () => {
    const { key } = await newRoomyTenant({ quotas: { eventTypes: 1 } });
    await newOperatorType();
    await newOperatorType();
    expect((await tenantType(key, uniqueTypeName("mine"))).status).toBe(201);
    expectProblem(await tenantType(key, uniqueTypeName("mine")), 409, "quota_exceeded");
  });
});

describe("tenants see the operator's types", () => {
  it("GET /v1/event-types lists own and operator types together, by name, on one cursor", async () => {
    const { key } = await newRoomyTenant();
    const other = await newRoomyTenant();
    const mine = [uniqueTypeName("a"), uniqueTypeName("m"), uniqueTypeName("z")];
    for (const name of mine) expect((await tenantType(key, name)).status).toBe(201);
    const theirs = uniqueTypeName("b");
    expect((await tenantType(other.key, theirs)).status).toBe(201);
    const operators = [await newOperatorType(), await newOperatorType({ name: uniqueTypeName("n") })];

    const { items, pages } = await allPages("/v1/event-types", { key }, 1);
    const names = items.map((t) => t.name);
    expect(pages).toBe(items.length);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    for (const name of mine) expect(items.find((t) => t.name === name)?.owner).toBe("tenant");
    for (const t of operators) expect(items.find((i) => i.name === t.name)?.owner).toBe("operator");
    // Another tenant's types are never listed.
    expect(names).not.toContain(theirs);
    expect(items.filter((t) => t.owner === "tenant").map((t) => t.name)).toEqual([...mine].sort());

    const one = await call("GET", `/v1/event-types/${operators[0]!.name}`, { key });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({ ...operators[0], owner: "operator" });
    expectProblem(await call("GET", `/v1/event-types/${theirs}`, { key }), 404, "not_found");
  });

  it("PATCH and DELETE of an operator type via /v1 → 403 operator_event_type, nothing changes", async () => {
    const type = await newOperatorType({ description: "kept" });
    const { key } = await newRoomyTenant();
    const patch = await call("PATCH", `/v1/event-types/${type.name}`, { key, body: { description: "hijacked" } });
    expectProblem(patch, 403, "operator_event_type");
    expectProblem(await call("DELETE", `/v1/event-types/${type.name}`, { key }), 403, "operator_event_type");
    const after = await call("GET", `/admin/event-types/${type.name}`, { admin: true });
    expect(after.body).toMatchObject({ description: "kept", archived: false });
    expect(after.body.updatedAt).toBe(type.updatedAt);
    const audit = await call("GET", "/v1/audit-log?limit=100", { key });
    expect(audit.body.data.filter((e: { action: string }) => e.action.startsWith("event_type."))).toEqual([]);
  });

  it("a tenant may subscribe to an operator type; unknown names list the catalog, operator types included", async () => {
    const type = await newOperatorType();
    const { key } = await newRoomyTenant();
    const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", eventTypes: [type.name] } });
    expect(hook.status, hook.text).toBe(201);
    expect(hook.body.eventTypes).toEqual([type.name]);
    const bad = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", eventTypes: ["no.such"] } });
    expectProblem(bad, 422, "validation_failed");
    expect(fieldError(bad, "eventTypes.0").allowed).toContain(type.name);
  });
});

describe("names never collide across the line", () => {
  it("a tenant type may not take an operator type's name (409 duplicate_name)", async () => {
    const type = await newOperatorType();
    const { key } = await newRoomyTenant();
    const res = await tenantType(key, type.name);
    expectProblem(res, 409, "duplicate_name");
    expect(res.body.detail).toMatch(/operator/);
    expect((await call("GET", `/v1/event-types/${type.name}`, { key })).body.owner).toBe("operator");
    const entries = await call("GET", "/v1/audit-log?action=event_type.created", { key });
    expect(entries.body.data).toEqual([]);
  });

  it("an operator type may not take a name any tenant has, archived or not (409 duplicate_name)", async () => {
    const { key } = await newRoomyTenant();
    const live = uniqueTypeName("live");
    const archived = uniqueTypeName("gone");
    for (const name of [live, archived]) expect((await tenantType(key, name)).status).toBe(201);
    expect((await call("DELETE", `/v1/event-types/${archived}`, { key })).status).toBe(204);
    for (const name of [live, archived]) {
      const res = await call("POST", "/admin/event-types", { admin: true, body: { name } });
      expectProblem(res, 409, "duplicate_name");
      expect(res.body.detail).toMatch(/tenant/);
      expectProblem(await call("GET", `/admin/event-types/${name}`, { admin: true }), 404, "not_found");
    }
    expect(await operatorAudit("operator_event_type.created")).not.toContainEqual(expect.objectContaining({ target: live }));
  });

  it("of two concurrent creates of one name, one per side, exactly one wins", async () => {
    const { key } = await newRoomyTenant();
    for (let round = 0; round < 5; round++) {
      const name = uniqueTypeName("race");
      const [tenant, operator] = await Promise.all([
        tenantType(key, name),
        call("POST", "/admin/event-types", { admin: true, body: { name } }),
      ]);
      expect([tenant.status, operator.status].sort()).toEqual([201, 409]);
      const seen = await call("GET", `/v1/event-types/${name}`, { key });
      expect(seen.body.owner).toBe(tenant.status === 201 ? "tenant" : "operator");
    }
  });
});

describe("GET /admin/audit-log", () => {
  it("records operator_event_type.created|updated|deleted with actor operator, newest first, in the operator's log only", async () => {
    const { key } = await newRoomyTenant();
    const name = uniqueTypeName("aud");
    const created = await call("POST", "/admin/event-types", { admin: true, ip: "192.0.2.7", body: { name } });
    const updated = await call("PATCH", `/admin/event-types/${name}`, { admin: true, ip: "192.0.2.7", body: { description: "d" } });
    const deleted = await call("DELETE", `/admin/event-types/${name}`, { admin: true, ip: "192.0.2.7" });
    for (const [action, res] of [
      ["operator_event_type.created", created],
      ["operator_event_type.updated", updated],
      ["operator_event_type.deleted", deleted],
    ] as const) {
      const entries = (await operatorAudit(action)).filter((e) => e.target === name);
      expect(entries, action).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actor: "operator", action, ip: "192.0.2.7", requestId: res.headers.get("x-request-id") });
    }
    expect((await operatorAudit("operator_event_type.updated")).find((e) => e.target === name).details).toEqual({
      fields: ["description"],
    });

    const all = await allPages("/admin/audit-log", { admin: true }, 2);
    const mine = all.items.filter((e) => e.target === name).map((e) => e.action);
    expect(mine).toEqual(["operator_event_type.deleted", "operator_event_type.updated", "operator_event_type.created"]);
    // Tenants' own entries reach the operator's log only as the operator's changes, each naming its tenant.
    for (const e of all.items.filter((e) => e.action === "tenant.created")) expect(e.details.tenantId).toBe(e.target);
    expect((await call("GET", "/v1/audit-log?limit=100", { key })).body.data.some((e: { target: string }) => e.target === name)).toBe(
      false,
    );
  });

  it("400 for a malformed action or cursor", async () => {
    expectProblem(await call("GET", "/admin/audit-log?action=DROP TABLE", { admin: true }), 400, "invalid_query");
    expectProblem(await call("GET", "/admin/audit-log?cursor=nope", { admin: true }), 400, "invalid_query");
  });
});

describe("OpenAPI", () => {
  it("documents every operator route with the admin token and the Operator tag, sharing the tenant twins' schemas", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    const expected: [string, string][] = [
      ["/admin/event-types", "post"],
      ["/admin/event-types", "get"],
      ["/admin/event-types/{name}", "get"],
      ["/admin/event-types/{name}", "patch"],
      ["/admin/event-types/{name}", "delete"],
      ["/admin/tenants/{id}/events", "post"],
      ["/admin/webhooks", "post"],
      ["/admin/webhooks", "get"],
      ["/admin/webhooks/{id}", "get"],
      ["/admin/webhooks/{id}", "patch"],
      ["/admin/webhooks/{id}", "delete"],
      ["/admin/webhooks/{id}/rotate-secret", "post"],
      ["/admin/webhooks/{id}/test", "post"],
      ["/admin/deliveries", "get"],
      ["/admin/deliveries/{id}", "get"],
      ["/admin/deliveries/{id}/retry", "post"],
      ["/admin/audit-log", "get"],
    ];
    for (const [path, method] of expected) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.tags, `${method} ${path}`).toEqual(["Operator"]);
      expect(operation.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
    }
    const ref = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content["application/json"].schema.$ref;
    expect(ref("/admin/event-types/{name}", "get", "200")).toBe(ref("/v1/event-types/{name}", "get", "200"));
    expect(ref("/admin/tenants/{id}/events", "post", "202")).toBe(ref("/v1/events", "post", "202"));
    const schemas = doc.components.schemas;
    expect(schemas.EventType.properties.owner.enum).toEqual(["tenant", "operator", "hookgate"]);
    // Responses extend the tenant twins' shapes; a request body is one strict object a body can satisfy.
    expect(schemas.OperatorWebhook.allOf[0].$ref).toBe("#/components/schemas/Webhook");
    expect(schemas.OperatorWebhook.allOf[1].properties.tenantIds).toBeDefined();
    expect(schemas.OperatorDelivery.allOf[0].$ref).toBe("#/components/schemas/Delivery");
    expect(schemas.OperatorDelivery.allOf[1].properties.tenantId).toBeDefined();
    for (const name of ["CreateOperatorWebhook", "UpdateOperatorWebhook"]) {
      expect(schemas[name].allOf, name).toBeUndefined();
      expect(schemas[name].additionalProperties, name).toBe(false);
      expect(Object.keys(schemas[name].properties), name).toEqual(expect.arrayContaining(["url", "eventTypes", "tenantIds"]));
    }
  });
});
