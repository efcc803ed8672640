import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, call, expectProblem, fieldError, newClient, newKey, newTenant, tokenFor } from "./helpers";

const verify = (body: Record<string, unknown>) => call("POST", "/admin/verify", { admin: true, body });
const patchTenant = (id: string, body: Record<string, unknown>) => call("PATCH", `/admin/tenants/${id}`, { admin: true, body });

/** A tenant in `limitMode` whose reads are limited to `limit` a minute, and a key for the gateway's routes. */
async function tenantIn(limitMode: "exact" | "approximate", limit = 50, keyExtra: Record<string, unknown> = {}, windowSeconds = 60) {
  const { tenant, key } = await newTenant({ rateLimits: { read: { limit, windowSeconds } } });
  expect((await patchTenant(tenant.id, { limitMode })).body.limitMode).toBe(limitMode);
  const reader = await newKey(key, { scopes: ["items:read"], ...keyExtra });
  return { tenant, key, reader };
}

/** Date.now() under the test's control (the Worker and its objects share the test's isolate). */
function controlledClock() {
  const real = Date.now.bind(Date);
  let offset = 0;
  vi.spyOn(Date, "now").mockImplementation(() => real() + offset);
  return { advance: (ms: number) => (offset += ms) };
}

const get = (key: string, opts: { ip?: string; path?: string } = {}) =>
  callUrl("GET", `${BASE}${opts.path ?? "/items/1"}`, { key, ip: opts.ip });

beforeEach(async () => {
  expect((await putScopes([{ name: "items:read" }, { name: "items:write" }])).status).toBe(200);
  expect(
    (
      await putGateway({
        routes: [
          { path: "/items/*", scope: "items:read" },
          { path: "/admin-only/*", scope: "items:write" },
        ],
      })
    ).status,
  ).toBe(200);
});
afterEach(() => vi.restoreAllMocks());

describe("limitMode on the tenant", () => {
  it("defaults to exact, is shown on the tenant and changes with PATCH", async () => {
    const { tenant } = await newTenant();
    expect(tenant.limitMode).toBe("exact");
    expect((await patchTenant(tenant.id, { limitMode: "approximate" })).body.limitMode).toBe("approximate");
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.limitMode).toBe("approximate");
    const listed = await call("GET", `/admin/tenants?search=${tenant.id}`, { admin: true });
    expect(listed.body.data[0].limitMode).toBe("approximate");
    expect((await patchTenant(tenant.id, { limitMode: "exact" })).body.limitMode).toBe("exact");
  });

  it("an unknown mode → 422 naming the field and listing the modes; the tenant is unchanged", async () => {
    const { tenant } = await newTenant();
    const res = await patchTenant(tenant.id, { limitMode: "fast" });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "limitMode").allowed).toEqual(["exact", "approximate"]);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.limitMode).toBe("exact");
  });
});

describe("approximate mode at the gateway", () => {
  it("admits 90-110 % of the limit in a window, with the rate-limit headers on every answer", async () => {
    const origin = stubOrigin();
    const { reader } = await tenantIn("approximate", 50);
    let admitted = 0;
    let refused: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 80; i++) {
      const res = await get(reader.key);
      expect(res.headers.get("x-ratelimit-limit")).toBe("50");
      expect(res.headers.get("ratelimit-policy")).toBe('"read";q=50;w=60');
      expect(res.headers.get("ratelimit")).toMatch(/^"read";r=\d+;t=\d+$/);
      if (res.status === 200) admitted++;
      else refused ??= res;
    }
    expect(admitted).toBeGreaterThanOrEqual(45);
    expect(admitted).toBeLessThanOrEqual(55);
    expect(origin.calls).toHaveLength(admitted);
    expectProblem(refused!, 429, "rate_limited");
    expect(refused!.body).toMatchObject({ policy: "read:50/1m" });
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused!.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("reports what it admitted to the credential's object: the exact /v1 API sees the spent budget", async () => {
    stubOrigin();
    const clock = controlledClock();
    const { reader } = await tenantIn("approximate", 10);
    for (let i = 0; i < 10; i++) expect((await get(reader.key)).status).toBe(200);
    expect((await get(reader.key)).status).toBe(429);
    // The next reconciliation (forced here by letting the copy go stale) carries every admission to the object.
    clock.advance(2_100);
    await get(reader.key);
    const v1 = await call("GET", "/v1/scopes", { key: reader.key });
    expectProblem(v1, 429, "rate_limited");
  });

  it("the rate-limit headers report the isolate's view; /v1 stays exact", async () => {
    stubOrigin();
    const clock = controlledClock();
    const { reader } = await tenantIn("approximate", 10, {}, 600);
    expect((await get(reader.key)).headers.get("x-ratelimit-remaining")).toBe("9");
    // Spent through Hookgate's own API: exact, at the object, at once.
    for (let i = 0; i < 5; i++) expect((await call("GET", "/v1/scopes", { key: reader.key })).status).toBe(200);
    // The gateway still decides from its copy until it reconciles.
    const local = await get(reader.key);
    expect(local.status).toBe(200);
    expect(local.headers.get("x-ratelimit-remaining")).toBe("8");
    // Reconciled: the copy holds the gateway's 2 and /v1's 5, plus this request (not yet reported).
    clock.advance(2_100);
    expect((await get(reader.key)).headers.get("x-ratelimit-remaining")).toBe("2");
    // The object has 7: /v1 admits 3 more, exactly.
    for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/scopes", { key: reader.key })).status).toBe(200);
    expectProblem(await call("GET", "/v1/scopes", { key: reader.key }), 429, "rate_limited");
  });

  it("a revoked key stops working within 2 s; Hookgate's own API refuses it at once", async () => {
    stubOrigin();
    const clock = controlledClock();
    const { key, reader } = await tenantIn("approximate");
    expect((await get(reader.key)).status).toBe(200);
    expect((await call("DELETE", `/v1/keys/${reader.id}`, { key })).status).toBe(204);
    expectProblem(await call("GET", "/v1/scopes", { key: reader.key }), 401, "credential_revoked");
    clock.advance(2_001);
    const origin = stubOrigin();
    expectProblem(await get(reader.key), 401, "credential_revoked");
    expect(origin.calls).toHaveLength(0);
  });

  it("an expired key is refused from the moment it expires", async () => {
    stubOrigin();
    const clock = controlledClock();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const { reader } = await tenantIn("approximate", 50, { expiresAt });
    expect((await get(reader.key)).status).toBe(200);
    clock.advance(60_001);
    expectProblem(await get(reader.key), 401, "credential_expired");
  });

  it("scope and IP allowlist are still enforced, and a refusal spends nothing", async () => {
    const origin = stubOrigin();
    const { reader } = await tenantIn("approximate", 10, { ipAllowlist: ["203.0.113.0/24"] });
    const ok = await get(reader.key, { ip: "203.0.113.7" });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-remaining")).toBe("9");
    expectProblem(await get(reader.key, { ip: "198.51.100.1" }), 403, "ip_not_allowed");
    const scope = await get(reader.key, { ip: "203.0.113.7", path: "/admin-only/x" });
    expectProblem(scope, 403, "insufficient_scope");
    expect(scope.body.requiredScope).toBe("items:write");
    const again = await get(reader.key, { ip: "203.0.113.7" });
    expect(again.headers.get("x-ratelimit-remaining")).toBe("8");
    expect(origin.calls).toHaveLength(2);
  });

  it("API access switched off reaches the gateway within 2 s", async () => {
    stubOrigin();
    const clock = controlledClock();
    const { tenant, reader } = await tenantIn("approximate");
    expect((await get(reader.key)).status).toBe(200);
    await patchTenant(tenant.id, { apiAccess: false });
    clock.advance(2_001);
    expectProblem(await get(reader.key), 403, "api_access_disabled");
  });

  it("an OAuth token works, and revoking its client stops it within 2 s", async () => {
    stubOrigin();
    const clock = controlledClock();
    const { key } = await tenantIn("approximate");
    const client = await newClient(key, { scopes: ["items:read"] });
    const token = await tokenFor(client);
    expect((await get(token)).status).toBe(200);
    expect((await call("DELETE", `/v1/oauth-clients/${client.id}`, { key })).status).toBe(204);
    clock.advance(2_001);
    expect((await get(token)).status).toBe(401);
  });

  it("an exact tenant's key is refused the moment it is revoked", async () => {
    stubOrigin();
    const { key, reader } = await tenantIn("exact");
    expect((await get(reader.key)).status).toBe(200);
    await call("DELETE", `/v1/keys/${reader.id}`, { key });
    expectProblem(await get(reader.key), 401, "credential_revoked");
  });
});

describe("approximate mode at /admin/verify", () => {
  it("valid answers spend from the isolate's copy; refusals name the first problem", async () => {
    const clock = controlledClock();
    const { key, reader } = await tenantIn("approximate", 5);
    const first = await verify({ credential: reader.key, scope: "items:read" });
    expect(first.body).toMatchObject({ valid: true, credentialId: reader.id, rateLimit: { policy: "read:5/1m", limit: 5, remaining: 4 } });
    expect((await verify({ credential: reader.key, scope: "items:write" })).body).toEqual({ valid: false, code: "insufficient_scope" });
    for (let i = 0; i < 4; i++) expect((await verify({ credential: reader.key })).body.valid).toBe(true);
    const limited = await verify({ credential: reader.key });
    expect(limited.body).toMatchObject({ valid: false, code: "rate_limited" });
    expect(limited.body.retryAfter).toBeGreaterThanOrEqual(1);
    await call("DELETE", `/v1/keys/${reader.id}`, { key });
    clock.advance(2_001);
    expect((await verify({ credential: reader.key })).body).toEqual({ valid: false, code: "credential_revoked" });
  });
});
