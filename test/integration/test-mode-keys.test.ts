import { describe, expect, it } from "vitest";
import { checksum } from "../../src/auth/key-format";
import { allPages, call, expectProblem, fieldError, newClient, newKey, newTenant, tokenFor } from "./helpers";

const TEST_KEY = /^hg_test_[0-9A-Za-z]+_[0-9A-Za-z]{38}$/;
const LIVE_KEY = /^hg_live_[0-9A-Za-z]+_[0-9A-Za-z]{38}$/;

/** A tenant, its first (live) key, and a test key made by it. */
async function tenantWithTestKey(scopes = ["api:read", "api:write"]) {
  const t = await newTenant();
  const test = await newKey(t.key, { scopes, mode: "test" });
  return { ...t, testKey: test.key, testKeyId: test.id };
}

describe("test mode keys", () => {
  it("POST /admin/tenants still returns one live key", async () => {
    const { tenant, key, keyId } = await newTenant();
    expect(key).toMatch(LIVE_KEY);
    const got = await call("GET", `/v1/keys/${keyId}`, { key });
    expect(got.body.mode).toBe("live");
    const who = await call("GET", "/v1/whoami", { key });
    expect(who.body).toMatchObject({ tenantId: tenant.id, credentialId: keyId, credentialType: "api_key", mode: "live" });
  });

  it("a live key creates a test key <prefix>_test_<tenant>_<secret><checksum> that authenticates as test", async () => {
    const { tenant, key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { name: "sandbox", scopes: ["keys:read"], mode: "test" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.mode).toBe("test");
    expect(res.body.key).toMatch(TEST_KEY);
    const [, , tenantPart, body] = (res.body.key as string).split("_") as [string, string, string, string];
    expect(`ten_${tenantPart}`).toBe(tenant.id);
    expect(body.slice(32)).toBe(checksum(body.slice(0, 32)));
    expect(res.body.start).toBe((res.body.key as string).slice(0, 12));
    const who = await call("GET", "/v1/whoami", { key: res.body.key });
    expect(who.status).toBe(200);
    expect(who.body).toEqual({
      tenantId: tenant.id,
      tenant: { id: tenant.id, name: tenant.name },
      credentialId: res.body.id,
      credentialType: "api_key",
      mode: "test",
      scopes: ["keys:read"],
    });
  });

  it("a live key may also create live keys explicitly, and without mode makes its own mode", async () => {
    const { key } = await newTenant();
    const explicit = await newKey(key, { scopes: ["keys:read"], mode: "live" });
    expect(explicit.key).toMatch(LIVE_KEY);
    expect(explicit.body.mode).toBe("live");
    const implicit = await newKey(key, { scopes: ["keys:read"] });
    expect(implicit.body.mode).toBe("live");
  });

  it("a test key makes test keys by default, and is refused a live key (403 mode_escalation, nothing stored)", async () => {
    const { key, testKey } = await tenantWithTestKey();
    const made = await newKey(testKey, { scopes: ["keys:read"] });
    expect(made.body.mode).toBe("test");
    expect(made.key).toMatch(TEST_KEY);
    const refused = await call("POST", "/v1/keys", { key: testKey, body: { name: "escalate", scopes: ["keys:read"], mode: "live" } });
    expectProblem(refused, 403, "mode_escalation");
    const live = await allPages("/v1/keys", { key });
    expect(live.items.some((k) => k.name === "escalate")).toBe(false);
    const test = await allPages("/v1/keys", { key: testKey });
    expect(test.items.some((k) => k.name === "escalate")).toBe(false);
  });

  it("refuses an unknown mode with a 422 naming the field and the options", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/keys", { key, body: { name: "x", scopes: ["keys:read"], mode: "sandbox" } });
    expectProblem(res, 422, "validation_failed");
    const err = fieldError(res, "mode");
    expect(err.allowed).toEqual(["live", "test"]);
  });

  it("a test key is still bound by scopes: it cannot escalate past its own", async () => {
    const { testKey } = await tenantWithTestKey(["keys:read", "keys:write"]);
    expectProblem(
      await call("POST", "/v1/keys", { key: testKey, body: { name: "x", scopes: ["webhooks:read"] } }),
      403,
      "scope_escalation",
    );
  });

  it("a revoked test key gets 401 on its very next request", async () => {
    const { key, testKey, testKeyId } = await tenantWithTestKey();
    expect((await call("DELETE", `/v1/keys/${testKeyId}`, { key })).status).toBe(404);
    expect((await call("DELETE", `/v1/keys/${testKeyId}`, { key: testKey })).status).toBe(204);
    expectProblem(await call("GET", "/v1/whoami", { key: testKey }), 401, "credential_revoked");
  });

  it("a test key with a bad checksum is refused before any lookup", async () => {
    const { testKey } = await tenantWithTestKey();
    const last = testKey.at(-1) === "A" ? "B" : "A";
    const res = await call("GET", "/v1/whoami", { key: `${testKey.slice(0, -1)}${last}` });
    expectProblem(res, 401, "invalid_credential");
  });

  it("rotating a test key yields a test key", async () => {
    const { testKey, testKeyId } = await tenantWithTestKey();
    const res = await call("POST", `/v1/keys/${testKeyId}/rotate`, { key: testKey, body: { graceSeconds: 0 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.mode).toBe("test");
    expect(res.body.key).toMatch(TEST_KEY);
    expect((await call("GET", "/v1/whoami", { key: res.body.key })).body.mode).toBe("test");
  });
});

describe("each mode sees only its own keys", () => {
  it("another mode's key id is a 404 for get, patch, delete, rotate and usage, in both directions", async () => {
    const { key: liveKey, keyId: liveId, testKey, testKeyId } = await tenantWithTestKey();
    for (const [caller, otherId] of [
      [liveKey, testKeyId],
      [testKey, liveId],
    ] as const) {
      expectProblem(await call("GET", `/v1/keys/${otherId}`, { key: caller }), 404, "not_found");
      expectProblem(await call("PATCH", `/v1/keys/${otherId}`, { key: caller, body: { name: "renamed" } }), 404, "not_found");
      expectProblem(await call("POST", `/v1/keys/${otherId}/rotate`, { key: caller, body: {} }), 404, "not_found");
      expectProblem(await call("GET", `/v1/keys/${otherId}/usage`, { key: caller }), 404, "not_found");
      expectProblem(await call("DELETE", `/v1/keys/${otherId}`, { key: caller }), 404, "not_found");
    }
    // Nothing was changed by the refused calls.
    expect((await call("GET", `/v1/keys/${testKeyId}`, { key: testKey })).body.name).not.toBe("renamed");
    expect((await call("GET", "/v1/whoami", { key: liveKey })).status).toBe(200);
    expect((await call("GET", "/v1/whoami", { key: testKey })).status).toBe(200);
  });

  it("lists show only the caller's mode", async () => {
    const { key: liveKey, keyId: liveId, testKey, testKeyId } = await tenantWithTestKey();
    const live = await allPages("/v1/keys", { key: liveKey });
    const test = await allPages("/v1/keys", { key: testKey });
    expect(live.items.map((k) => k.id)).toEqual([liveId]);
    expect(test.items.map((k) => k.id)).toEqual([testKeyId]);
    expect(test.items.every((k) => k.mode === "test")).toBe(true);
  });

  it("each mode has its own apiKeys quota, the same number", async () => {
    const { key } = await newTenant({ quotas: { apiKeys: 2 } });
    const test1 = await newKey(key, { scopes: ["keys:read", "keys:write"], mode: "test" });
    await newKey(key, { scopes: ["keys:read"], mode: "test" });
    expectProblem(
      await call("POST", "/v1/keys", { key, body: { name: "t3", scopes: ["keys:read"], mode: "test" } }),
      409,
      "quota_exceeded",
    );
    expectProblem(await call("POST", "/v1/keys", { key: test1.key, body: { name: "t3", scopes: ["keys:read"] } }), 409, "quota_exceeded");
    // The live side (one key so far) still has room for one more.
    const live2 = await newKey(key, { scopes: ["keys:read"] });
    expect(live2.body.mode).toBe("live");
    expectProblem(await call("POST", "/v1/keys", { key, body: { name: "l3", scopes: ["keys:read"] } }), 409, "quota_exceeded");
  });
});

describe("test mode OAuth clients and tokens", () => {
  it("a client takes its creator's mode, and its tokens carry it", async () => {
    const { key, testKey } = await tenantWithTestKey();
    const liveClient = await newClient(key);
    const testClient = await newClient(testKey);
    expect(liveClient.body.mode).toBe("live");
    expect(testClient.body.mode).toBe("test");
    const liveToken = await tokenFor(liveClient);
    const testToken = await tokenFor(testClient);
    expect(JSON.parse(atob((testToken.split(".")[1] as string).replaceAll("-", "+").replaceAll("_", "/"))).mode).toBe("test");
    expect((await call("GET", "/v1/whoami", { key: liveToken })).body).toMatchObject({ credentialType: "oauth_client", mode: "live" });
    expect((await call("GET", "/v1/whoami", { key: testToken })).body).toMatchObject({ credentialType: "oauth_client", mode: "test" });
    // A test token sees the test keys, not the live ones.
    const keys = await allPages("/v1/keys", { key: testToken });
    expect(keys.items.length).toBeGreaterThan(0);
    expect(keys.items.every((k) => k.mode === "test")).toBe(true);
  });

  it("a test token may create only test keys", async () => {
    const { testKey } = await tenantWithTestKey();
    const token = await tokenFor(await newClient(testKey));
    expectProblem(
      await call("POST", "/v1/keys", { key: token, body: { name: "x", scopes: ["keys:read"], mode: "live" } }),
      403,
      "mode_escalation",
    );
    const made = await call("POST", "/v1/keys", { key: token, body: { name: "y", scopes: ["keys:read"] } });
    expect(made.status, made.text).toBe(201);
    expect(made.body.mode).toBe("test");
  });

  it("another mode's client id is a 404 for get, rotate-secret and delete, in both directions; lists are filtered", async () => {
    const { key, testKey } = await tenantWithTestKey();
    const liveClient = await newClient(key);
    const testClient = await newClient(testKey);
    for (const [caller, other] of [
      [key, testClient.id],
      [testKey, liveClient.id],
    ] as const) {
      expectProblem(await call("GET", `/v1/oauth-clients/${other}`, { key: caller }), 404, "not_found");
      expectProblem(await call("POST", `/v1/oauth-clients/${other}/rotate-secret`, { key: caller }), 404, "not_found");
      expectProblem(await call("DELETE", `/v1/oauth-clients/${other}`, { key: caller }), 404, "not_found");
    }
    expect((await allPages("/v1/oauth-clients", { key })).items.map((c) => c.id)).toEqual([liveClient.id]);
    expect((await allPages("/v1/oauth-clients", { key: testKey })).items.map((c) => c.id)).toEqual([testClient.id]);
    // Both clients still issue tokens: the refused deletes changed nothing.
    expect(await tokenFor(liveClient)).toBeTruthy();
    expect(await tokenFor(testClient)).toBeTruthy();
  });

  it("each mode has its own oauthClients quota", async () => {
    const { key, testKey } = await tenantWithTestKey();
    // Quota 5 by default: five test clients do not use up the live side's five.
    for (let i = 0; i < 5; i++) await newClient(testKey);
    expectProblem(
      await call("POST", "/v1/oauth-clients", { key: testKey, body: { name: "six", scopes: ["keys:read"] } }),
      409,
      "quota_exceeded",
    );
    expect((await newClient(key)).body.mode).toBe("live");
  });
});

describe("the operator sees both modes", () => {
  it("lists a tenant's keys and clients of both modes with their mode, and filters with ?mode=", async () => {
    const { tenant, keyId, testKey, testKeyId } = await tenantWithTestKey();
    const testClient = await newClient(testKey);
    const admin = { admin: true };
    const all = await call("GET", `/admin/tenants/${tenant.id}/keys`, admin);
    expect(all.status, all.text).toBe(200);
    expect(all.body.data.map((k: { id: string; mode: string }) => [k.id, k.mode])).toEqual([
      [keyId, "live"],
      [testKeyId, "test"],
    ]);
    const onlyTest = await call("GET", `/admin/tenants/${tenant.id}/keys?mode=test`, admin);
    expect(onlyTest.body.data.map((k: { id: string }) => k.id)).toEqual([testKeyId]);
    const onlyLive = await call("GET", `/admin/tenants/${tenant.id}/keys?mode=live`, admin);
    expect(onlyLive.body.data.map((k: { id: string }) => k.id)).toEqual([keyId]);
    expect((await call("GET", `/admin/tenants/${tenant.id}/keys/${testKeyId}`, admin)).body.mode).toBe("test");
    const clients = await call("GET", `/admin/tenants/${tenant.id}/oauth-clients?mode=test`, admin);
    expect(clients.body.data.map((c: { id: string; mode: string }) => [c.id, c.mode])).toEqual([[testClient.id, "test"]]);
    expect((await call("GET", `/admin/tenants/${tenant.id}/oauth-clients?mode=live`, admin)).body.data).toEqual([]);
    expectProblem(await call("GET", `/admin/tenants/${tenant.id}/keys?mode=prod`, admin), 400, "invalid_query");
  });
});
