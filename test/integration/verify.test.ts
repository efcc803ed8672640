import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, call, expectProblem, newClient, newKey, newTenant, tokenFor } from "./helpers";

const verify = (body: Record<string, unknown>) => call("POST", "/admin/verify", { admin: true, body });

beforeEach(async () => {
  await putScopes([{ name: "tests:read" }, { name: "tests:write" }]);
});
afterEach(() => vi.restoreAllMocks());

describe("POST /admin/verify", () => {
  it("a valid key → valid, its tenant, id, type, scopes and rate limit", async () => {
    const { key, tenant } = await newTenant();
    const reader = await newKey(key, { scopes: ["tests:read"] });
    const res = await verify({ credential: reader.key, scope: "tests:read" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      tenantId: tenant.id,
      credentialId: reader.id,
      type: "key",
      scopes: ["tests:read"],
      rateLimit: { policy: "read:60/1m", limit: 60, remaining: 59, reset: 1 },
    });
    const write = await verify({ credential: reader.key, method: "POST", cost: 5, scope: "tests:read" });
    expect(write.body.rateLimit).toMatchObject({ policy: "write:30/1m", limit: 30, remaining: 25 });
  });

  it("an OAuth token → type oauth", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["tests:read"] });
    const res = await verify({ credential: await tokenFor(client) });
    expect(res.body).toMatchObject({ valid: true, type: "oauth", credentialId: client.id, scopes: ["tests:read"] });
  });

  it("names the first problem, in the order of checks", async () => {
    const { key, tenant } = await newTenant();
    const gone = await newKey(key, { scopes: ["tests:write"] });
    await call("DELETE", `/v1/keys/${gone.id}`, { key });
    const soon = await newKey(key, { scopes: ["tests:read"], expiresAt: new Date(Date.now() + 1500).toISOString() });
    const fenced = await newKey(key, { scopes: ["tests:read"], ipAllowlist: ["203.0.113.0/24"] });
    const code = async (body: Record<string, unknown>) => (await verify(body)).body.code;
    expect(await code({ credential: "not-a-key" })).toBe("malformed_credential");
    expect(await code({ credential: "" })).toBe("malformed_credential");
    expect(await code({ credential: `${key.slice(0, -6)}AAAAAA` })).toBe("malformed_credential");
    expect(await code({ credential: "hg_live_x.y.z" })).toBe("malformed_credential");
    // Revoked before out of scope; the key was revoked, so that is the answer.
    expect(await code({ credential: gone.key, scope: "tests:read" })).toBe("credential_revoked");
    expect(await code({ credential: fenced.key, ip: "198.51.100.1" })).toBe("ip_not_allowed");
    expect(await code({ credential: fenced.key })).toBe("ip_not_allowed");
    expect(await code({ credential: fenced.key, ip: "203.0.113.9", scope: "tests:write" })).toBe("insufficient_scope");
    expect(await code({ credential: key, scope: "unknown:scope" })).toBe("insufficient_scope");
    await new Promise((r) => setTimeout(r, 1600));
    expect(await code({ credential: soon.key })).toBe("credential_expired");
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: false } });
    expect(await code({ credential: key })).toBe("api_access_disabled");
  });

  it("scope api:read / api:write: valid for a credential holding that very wildcard, and only for one", async () => {
    const { key, keyId } = await newTenant();
    const reader = await newKey(key, { scopes: ["api:read"] });
    const eachRead = await newKey(key, {
      scopes: ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read", "tests:read"],
    });
    const writer = await newClient(key, { scopes: ["api:write"] });
    expect((await verify({ credential: key, scope: "api:read" })).body).toMatchObject({ valid: true, credentialId: keyId });
    expect((await verify({ credential: key, scope: "api:write", method: "POST" })).body).toMatchObject({ valid: true });
    expect((await verify({ credential: reader.key, scope: "api:read" })).body).toMatchObject({ valid: true, credentialId: reader.id });
    expect((await verify({ credential: await tokenFor(writer), scope: "api:write" })).body).toMatchObject({ valid: true, type: "oauth" });
    expect((await verify({ credential: eachRead.key, scope: "api:read" })).body).toEqual({ valid: false, code: "insufficient_scope" });
    expect((await verify({ credential: reader.key, scope: "api:write" })).body).toEqual({ valid: false, code: "insufficient_scope" });
    // Its members still need no wildcard.
    expect((await verify({ credential: eachRead.key, scope: "tests:read" })).body.valid).toBe(true);
  });

  it("a well-formed key nobody issued → unknown_credential", async () => {
    const { key } = await newTenant();
    // The same tenant segment and a valid checksum, but a secret never issued.
    const { generateApiKey } = await import("../../src/auth/key-format");
    const tenantPart = key.split("_")[2];
    const other = generateApiKey("hg", `ten_${tenantPart}`);
    expect((await verify({ credential: other })).body).toEqual({ valid: false, code: "unknown_credential" });
  });

  it("only a valid answer spends the cost, from the same budget as the gateway", async () => {
    await putGateway({ routes: [{ path: "/tests/*", scope: "tests:read" }] });
    const { key } = await newTenant();
    const reader = await newKey(key, { scopes: ["tests:read"] });
    for (let i = 0; i < 5; i++)
      expect((await verify({ credential: reader.key, scope: "tests:write" })).body.code).toBe("insufficient_scope");
    expect((await verify({ credential: reader.key, cost: 50 })).body.rateLimit.remaining).toBe(10);
    stubOrigin();
    const viaGateway = await callUrl("GET", `${BASE}/tests/1`, { key: reader.key });
    expect(viaGateway.headers.get("x-ratelimit-remaining")).toBe("9");
    const limited = await verify({ credential: reader.key, cost: 20 });
    expect(limited.body.valid).toBe(false);
    expect(limited.body.code).toBe("rate_limited");
    expect(limited.body.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it("needs the operator token and a well-formed body", async () => {
    const { key } = await newTenant();
    expectProblem(await call("POST", "/admin/verify", { key, body: { credential: key } }), 401, "invalid_credential");
    expectProblem(await verify({}), 422, "validation_failed");
    expectProblem(await verify({ credential: key, method: "BREW" }), 422, "validation_failed");
    expectProblem(await verify({ credential: key, cost: 0 }), 422, "validation_failed");
  });
});
