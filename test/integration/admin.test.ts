import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, allPages, call, expectProblem, fieldError, newTenant, type Result, unique } from "./helpers";

const TENANT_ID = /^ten_[0-9A-Za-z]{20}$/;
const KEY_ID = /^key_[0-9A-Za-z]{20}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const createTenant = (body: unknown) => call("POST", "/admin/tenants", { admin: true, body });
const patchTenant = (id: string, body: unknown) => call("PATCH", `/admin/tenants/${id}`, { admin: true, body });

describe("operator authentication", () => {
  const routes = [
    ["POST", "/admin/tenants"],
    ["GET", "/admin/tenants"],
    ["GET", "/admin/tenants/ten_00000000000000000000"],
    ["PATCH", "/admin/tenants/ten_00000000000000000000"],
  ] as const;

  it.each(routes)("%s %s without a token → 401 unauthorized + WWW-Authenticate", async (method, path) => {
    const res = await call(method, path, method === "GET" ? {} : { body: { name: unique() } });
    expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
  });

  it.each(routes)("%s %s with a wrong token → 401 invalid_credential + WWW-Authenticate", async (method, path) => {
    const res = await call(method, path, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
      ...(method === "GET" ? {} : { body: { name: unique() } }),
    });
    expectProblem(res, 401, "invalid_credential");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
  });

  it.each([
    ["a prefix of the token", `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ["the token without Bearer", ADMIN_TOKEN],
    ["Basic auth", `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`],
    ["an empty Bearer", "Bearer "],
  ])("refuses %s", async (_label, authorization) => {
    const res = await call("GET", "/admin/tenants", { headers: { authorization } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect(["unauthorized", "invalid_credential"]).toContain(res.body.code);
  });

  it("does not accept the token in X-Api-Key", async () => {
    const res = await call("GET", "/admin/tenants", { headers: { "x-api-key": ADMIN_TOKEN } });
    expectProblem(res, 401, "unauthorized");
  });

  it("a tenant API key is not an operator token", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/admin/tenants", { key });
    expectProblem(res, 401, "invalid_credential");
  });

  it("accepts a lower-case bearer scheme", async () => {
    const res = await call("GET", "/admin/tenants?limit=1", { headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
    expect(res.status, res.text).toBe(200);
  });
});

describe("POST /admin/tenants", () => {
  it("creates a tenant with defaults and a first key with all scopes", async () => {
    const name = unique("acme");
    const res = await createTenant({ name });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const { tenant, key } = res.body;
    expect(tenant).toEqual({
      id: expect.stringMatching(TENANT_ID),
      name,
      quotas: { apiKeys: 10, oauthClients: 5, webhooks: 3, sources: 5, eventTypes: 100 },
      apiAccess: true,
      rateLimits: null,
      retrySchedule: null,
      breakerThreshold: null,
      portalOrigins: [],
      dataShards: 1,
      limitMode: "exact",
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect(Object.keys(key).sort()).toEqual(
      [
        "id",
        "name",
        "start",
        "last4",
        "mode",
        "scopes",
        "ipAllowlist",
        "rateLimits",
        "createdAt",
        "expiresAt",
        "lastUsedAt",
        "revokedAt",
        "lockedBy",
        "status",
        "key",
      ].sort(),
    );
    expect(key.id).toMatch(KEY_ID);
    expect(key.scopes.sort()).toEqual(["api:read", "api:write"]);
    expect(key.mode).toBe("live");
    expect(key.key).toMatch(new RegExp(`^hg_live_${tenant.id.slice(4)}_[0-9A-Za-z]{38}$`));
    expect(key.start).toBe(key.key.slice(0, 12));
    expect(key.last4).toBe(key.key.slice(-4));
    expect(key.expiresAt).toBeNull();
    expect(key.lastUsedAt).toBeNull();
    expect(key.revokedAt).toBeNull();
    expect(key.ipAllowlist).toEqual([]);
    expect(key.createdAt).toMatch(ISO);
  });

  it("the first key works for every tenant API", async () => {
    const { tenant, key } = (await createTenant({ name: unique() })).body;
    const list = await call("GET", "/v1/keys", { key: key.key });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([key.id]);
    const audit = await call("GET", "/v1/audit-log", { key: key.key });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.data.some((e: { target: string }) => e.target === tenant.id)).toBe(true);
    const created = await call("POST", "/v1/keys", { key: key.key, body: { name: "child", scopes: ["webhooks:write", "audit:read"] } });
    expect(created.status, created.text).toBe(201);
  });

  it("takes quotas (merged with defaults), apiAccess and settings", async () => {
    const res = await createTenant({
      name: unique(),
      quotas: { apiKeys: 2, webhooks: 7 },
      apiAccess: true,
      rateLimits: { read: { limit: 5, windowSeconds: 10 } },
      retrySchedule: [10, "2m", "1h"],
      breakerThreshold: 3,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.tenant).toMatchObject({
      quotas: { apiKeys: 2, oauthClients: 5, webhooks: 7, sources: 5, eventTypes: 100 },
      rateLimits: { read: { limit: 5, windowSeconds: 10 } },
      retrySchedule: [10, 120, 3600],
      breakerThreshold: 3,
    });
    const got = await call("GET", `/admin/tenants/${res.body.tenant.id}`, { admin: true });
    expect(got.body).toEqual(res.body.tenant);
  });

  it("trims the name", async () => {
    const name = unique("trim");
    const res = await createTenant({ name: `  ${name}  ` });
    expect(res.status, res.text).toBe(201);
    expect(res.body.tenant.name).toBe(name);
  });

  it("a duplicate name → 409 duplicate_name and no second tenant", async () => {
    const name = unique("dup");
    expect((await createTenant({ name })).status).toBe(201);
    const again = await createTenant({ name });
    expectProblem(again, 409, "duplicate_name");
    expect(again.body.detail).toContain(name);
    const spaced = await createTenant({ name: ` ${name} ` });
    expectProblem(spaced, 409, "duplicate_name");
    const { items } = await allPages("/admin/tenants", { admin: true });
    expect(items.filter((t: { name: string }) => t.name === name)).toHaveLength(1);
  });

  it.each([
    ["no name", {}, "name"],
    ["an empty name", { name: "" }, "name"],
    ["a 101-char name", { name: "n".repeat(101) }, "name"],
    ["an unknown quota", { name: "q", quotas: { widgets: 1 } }, "quotas.widgets"],
    ["a negative quota", { name: "q", quotas: { apiKeys: -1 } }, "quotas.apiKeys"],
    ["a fractional quota", { name: "q", quotas: { webhooks: 1.5 } }, "quotas.webhooks"],
    ["a string apiAccess", { name: "q", apiAccess: "false" }, "apiAccess"],
    ["an unknown field", { name: "q", plan: "gold" }, "plan"],
  ])("%s → 422 naming the field", async (_label, body, path) => {
    const res = await createTenant(body);
    expectProblem(res, 422, "validation_failed");
    fieldError(res, path);
  });
});

describe("GET /admin/tenants/:id", () => {
  it("returns the tenant", async () => {
    const { tenant } = await newTenant();
    const res = await call("GET", `/admin/tenants/${tenant.id}`, { admin: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(tenant);
  });

  it.each(["ten_00000000000000000000", "ten_nope", "key_00000000000000000000", "x"])("an unknown id %s → 404", async (id) => {
    const res = await call("GET", `/admin/tenants/${id}`, { admin: true });
    expectProblem(res, 404, "not_found");
  });

  it("an over-long id → 400 invalid_query, not 500", async () => {
    const res = await call("GET", `/admin/tenants/ten_${"a".repeat(100)}`, { admin: true });
    expectProblem(res, 400, "invalid_query");
  });
});

describe("GET /admin/tenants", () => {
  it("pages with limit and nextCursor, without repeats or gaps", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await newTenant()).tenant.id);

    const first = await call("GET", "/admin/tenants?limit=2", { admin: true });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Result = await call("GET", `/admin/tenants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        admin: true,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      if (res.body.nextCursor) expect(res.body.data).toHaveLength(2);
      seen.push(...res.body.data.map((t: { id: string }) => t.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 500);
    expect(cursor).toBeNull();
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of mine) expect(seen).toContain(id);
    // Oldest first: my tenants appear in creation order.
    const order = mine.map((id) => seen.indexOf(id));
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    const { items } = await allPages("/admin/tenants", { admin: true });
    expect(items.map((t: { id: string }) => t.id)).toEqual(seen);
  });

  it("defaults to 20 per page", async () => {
    for (let i = 0; i < 21; i++) await newTenant();
    const res = await call("GET", "/admin/tenants", { admin: true });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it("a list item has the same shape as GET", async () => {
    const { tenant } = await newTenant();
    const { items } = await allPages("/admin/tenants", { admin: true });
    expect(items.find((t: { id: string }) => t.id === tenant.id)).toEqual(tenant);
  });
});

describe("PATCH /admin/tenants/:id", () => {
  it("renames, and the new name is taken", async () => {
    const { tenant } = await newTenant();
    const name = unique("renamed");
    const res = await patchTenant(tenant.id, { name });
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe(name);
    expect(res.body.id).toBe(tenant.id);
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(tenant.updatedAt));
    expect(res.body.createdAt).toBe(tenant.createdAt);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.name).toBe(name);
    const clash = await createTenant({ name });
    expectProblem(clash, 409, "duplicate_name");
  });

  it("renaming onto another tenant's name → 409 duplicate_name, unchanged", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const res = await patchTenant(b.tenant.id, { name: a.tenant.name });
    expectProblem(res, 409, "duplicate_name");
    expect((await call("GET", `/admin/tenants/${b.tenant.id}`, { admin: true })).body.name).toBe(b.tenant.name);
  });

  it("merges quotas", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { quotas: { apiKeys: 25, sources: 0 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.quotas).toEqual({ apiKeys: 25, oauthClients: 5, webhooks: 3, sources: 0, eventTypes: 100 });
    const again = await patchTenant(tenant.id, { quotas: { eventTypes: 7 } });
    expect(again.body.quotas).toEqual({ apiKeys: 25, oauthClients: 5, webhooks: 3, sources: 0, eventTypes: 7 });
  });

  it("sets and clears rateLimits", async () => {
    const { tenant } = await newTenant();
    const limits = { read: { limit: 100, windowSeconds: 60 }, write: { limit: 10, windowSeconds: 30 } };
    const set = await patchTenant(tenant.id, { rateLimits: limits });
    expect(set.status, set.text).toBe(200);
    expect(set.body.rateLimits).toEqual(limits);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.rateLimits).toEqual(limits);
    const cleared = await patchTenant(tenant.id, { rateLimits: null });
    expect(cleared.body.rateLimits).toBeNull();
  });

  it.each([
    ["a zero limit", { read: { limit: 0, windowSeconds: 60 } }, "rateLimits.read.limit"],
    ["a missing window", { write: { limit: 5 } }, "rateLimits.write.windowSeconds"],
    ["a day-and-a-second window", { read: { limit: 5, windowSeconds: 86_401 } }, "rateLimits.read.windowSeconds"],
    ["an unknown bucket", { delete: { limit: 5, windowSeconds: 60 } }, "rateLimits.delete"],
  ])("rateLimits with %s → 422", async (_label, rateLimits, path) => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { rateLimits });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, path);
  });

  it("retrySchedule accepts seconds and durations, and null resets it", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { retrySchedule: [5, "10s", "2m", "1h", "12h", 43_200] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.retrySchedule).toEqual([5, 10, 120, 3600, 43_200, 43_200]);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.retrySchedule).toEqual([
      5, 10, 120, 3600, 43_200, 43_200,
    ]);
    const eight = await patchTenant(tenant.id, { retrySchedule: [1, 2, 3, 4, 5, 6, 7, "8m"] });
    expect(eight.status, eight.text).toBe(200);
    expect(eight.body.retrySchedule).toEqual([1, 2, 3, 4, 5, 6, 7, 480]);
    const reset = await patchTenant(tenant.id, { retrySchedule: null });
    expect(reset.body.retrySchedule).toBeNull();
  });

  it.each([
    ["9 entries", [1, 2, 3, 4, 5, 6, 7, 8, 9], "retrySchedule"],
    ["no entries", [], "retrySchedule"],
    ["13h", ["13h"], "retrySchedule.0"],
    ["721m", ["10s", "721m"], "retrySchedule.1"],
    ["43201 seconds", [43_201], "retrySchedule.0"],
    ["0 seconds", [0], "retrySchedule.0"],
    ["a negative delay", [-5], "retrySchedule.0"],
    ["a fraction", [1.5], "retrySchedule.0"],
    ["days", ["1d"], "retrySchedule.0"],
    ["a bare string number", ["30"], "retrySchedule.0"],
    ["a spaced duration", ["5 m"], "retrySchedule.0"],
  ])("retrySchedule with %s → 422", async (_label, retrySchedule, path) => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { retrySchedule });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, path);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.retrySchedule).toBeNull();
  });

  it("breakerThreshold is set, validated and cleared", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { breakerThreshold: 50 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.breakerThreshold).toBe(50);
    for (const bad of [0, -1, 10_001, 2.5, "5"]) {
      const r = await patchTenant(tenant.id, { breakerThreshold: bad });
      expectProblem(r, 422, "validation_failed");
      fieldError(r, "breakerThreshold");
    }
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.breakerThreshold).toBe(50);
    const cleared = await patchTenant(tenant.id, { breakerThreshold: null });
    expect(cleared.body.breakerThreshold).toBeNull();
  });

  it("an empty patch changes nothing", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, {});
    expect(res.status, res.text).toBe(200);
    expect({ ...res.body, updatedAt: tenant.updatedAt }).toEqual(tenant);
  });

  it("an unknown tenant → 404", async () => {
    const res = await patchTenant("ten_00000000000000000000", { name: unique() });
    expectProblem(res, 404, "not_found");
  });

  it("unknown fields → 422", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { id: "ten_mine" });
    expectProblem(res, 422, "validation_failed");
  });
});

describe("apiAccess", () => {
  it("false → every tenant key gets 403 api_access_disabled; true restores access", async () => {
    const { tenant, key } = await newTenant();
    const child = (await call("POST", "/v1/keys", { key, body: { name: "child", scopes: ["keys:read"] } })).body.key as string;
    const off = await patchTenant(tenant.id, { apiAccess: false });
    expect(off.status, off.text).toBe(200);
    expect(off.body.apiAccess).toBe(false);

    for (const [method, path, k] of [
      ["GET", "/v1/keys", key],
      ["POST", "/v1/keys", key],
      ["GET", "/v1/audit-log", key],
      ["GET", "/v1/keys", child],
    ] as const) {
      const res = await call(method, path, { key: k, ...(method === "POST" ? { body: { name: "x", scopes: ["keys:read"] } } : {}) });
      expectProblem(res, 403, "api_access_disabled");
    }
    // Nothing was created while access was off.
    await patchTenant(tenant.id, { apiAccess: true });
    const list = await call("GET", "/v1/keys", { key });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect((await call("GET", "/v1/keys", { key: child })).status).toBe(200);
  });

  it("a tenant created with apiAccess:false cannot use its first key", async () => {
    const res = await createTenant({ name: unique(), apiAccess: false });
    expect(res.status, res.text).toBe(201);
    expect(res.body.tenant.apiAccess).toBe(false);
    expectProblem(await call("GET", "/v1/keys", { key: res.body.key.key }), 403, "api_access_disabled");
  });

  it("another tenant is unaffected", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await patchTenant(a.tenant.id, { apiAccess: false });
    expect((await call("GET", "/v1/keys", { key: b.key })).status).toBe(200);
  });

  it("an unknown credential is still a 401, not a 403, when access is off", async () => {
    const { tenant, key } = await newTenant();
    await patchTenant(tenant.id, { apiAccess: false });
    const res = await call("GET", "/v1/keys");
    expectProblem(res, 401, "unauthorized");
    const wrong = await call("GET", "/v1/keys", { key: `${key.slice(0, -1)}${key.endsWith("0") ? "1" : "0"}` });
    expectProblem(wrong, 401, "invalid_credential");
  });
});
