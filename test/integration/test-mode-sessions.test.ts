import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, expectedSignature, expectedSignatureV2, parseSignature, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { allPages, BASE, call, expectProblem, newClient, newKey, newTenant, tokenFor } from "./helpers";

type Session = {
  token: string;
  sessionId: string;
  kind: string;
  expiresAt: string;
  credentialId: string;
  scopes: string[];
  mode: string;
  modes: string[];
};

async function signIn(key: string, body?: Record<string, unknown>): Promise<Session> {
  const res = await call("POST", "/v1/dashboard-sessions", { key, body });
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  return res.body;
}

async function switchMode(session: string, mode: string) {
  return call("POST", "/v1/dashboard-sessions/current/mode", { key: session, body: { mode } });
}

describe("dashboard sessions carry a mode", () => {
  it("a session views its key's mode by default", async () => {
    const { key } = await newTenant();
    const testKey = await newKey(key, { scopes: ["keys:read", "keys:write"], mode: "test" });
    expect(await signIn(key)).toMatchObject({ mode: "live", modes: ["live", "test"] });
    const s = await signIn(testKey.key);
    expect(s).toMatchObject({ mode: "test", modes: ["test"] });
    expect((await call("GET", "/v1/whoami", { key: s.token })).body.mode).toBe("test");
  });

  it("a live key may sign in to test mode, and the session then sees only test keys", async () => {
    const { key, keyId } = await newTenant();
    const testKey = await newKey(key, { scopes: ["keys:read"], mode: "test" });
    const s = await signIn(key, { mode: "test" });
    expect(s).toMatchObject({ mode: "test", credentialId: keyId });
    expect((await call("GET", "/v1/whoami", { key: s.token })).body).toMatchObject({ credentialId: keyId, mode: "test" });
    expect((await allPages("/v1/keys", { key: s.token })).items.map((k) => k.id)).toEqual([testKey.id]);
    expectProblem(await call("GET", `/v1/keys/${keyId}`, { key: s.token }), 404, "not_found");
    // What it creates is test mode's.
    const made = await call("POST", "/v1/keys", { key: s.token, body: { name: "from-session", scopes: ["keys:read"] } });
    expect(made.status, made.text).toBe(201);
    expect(made.body.mode).toBe("test");
  });

  it("a test key may not sign in to live mode (403 mode_escalation)", async () => {
    const { key } = await newTenant();
    const testKey = await newKey(key, { scopes: ["keys:read"], mode: "test" });
    expectProblem(await call("POST", "/v1/dashboard-sessions", { key: testKey.key, body: { mode: "live" } }), 403, "mode_escalation");
    const bad = await call("POST", "/v1/dashboard-sessions", { key, body: { mode: "staging" } });
    expectProblem(bad, 422, "validation_failed");
  });

  it("the switch: a live key's session moves to test and back; the old session ends, the expiry is kept", async () => {
    const { key } = await newTenant();
    const live = await signIn(key);
    const toTest = await switchMode(live.token, "test");
    expect(toTest.status, toTest.text).toBe(201);
    expect(toTest.body).toMatchObject({
      mode: "test",
      modes: ["live", "test"],
      kind: "dashboard",
      credentialId: live.credentialId,
      scopes: live.scopes,
    });
    expect(Date.parse(toTest.body.expiresAt)).toBeLessThanOrEqual(Date.parse(live.expiresAt));
    expect(Date.parse(toTest.body.expiresAt)).toBeGreaterThan(Date.parse(live.expiresAt) - 5000);
    expectProblem(await call("GET", "/v1/whoami", { key: live.token }), 401, "session_ended");
    expect((await call("GET", "/v1/whoami", { key: toTest.body.token })).body.mode).toBe("test");
    const back = await switchMode(toTest.body.token, "live");
    expect(back.status, back.text).toBe(201);
    expect(back.body.mode).toBe("live");
    expect((await call("GET", "/v1/whoami", { key: back.body.token })).body.mode).toBe("live");
  });

  it("a test key's session cannot switch to live, and a key itself cannot use the switch", async () => {
    const { key } = await newTenant();
    const testKey = await newKey(key, { scopes: ["keys:read"], mode: "test" });
    const s = await signIn(testKey.key);
    expectProblem(await switchMode(s.token, "live"), 403, "mode_escalation");
    // The refused switch did not end the session.
    expect((await call("GET", "/v1/whoami", { key: s.token })).body.mode).toBe("test");
    expectProblem(await switchMode(key, "test"), 403, "credential_type_not_allowed");
    expectProblem(await switchMode(s.token, "sandbox"), 422, "validation_failed");
  });

  it("a session of a revoked key cannot switch", async () => {
    const { key } = await newTenant();
    const other = await newKey(key, { scopes: ["keys:read"] });
    const s = await signIn(other.key);
    expect((await call("DELETE", `/v1/keys/${other.id}`, { key })).status).toBe(204);
    const res = await switchMode(s.token, "test");
    expect(res.status).toBe(401);
  });
});

describe("rate limits per mode", () => {
  it("test mode has its own buckets with the same numbers: a live key's test session does not spend the live budget", async () => {
    const { key } = await newTenant({ rateLimits: { read: { limit: 2, windowSeconds: 60 }, write: { limit: 30, windowSeconds: 60 } } });
    const live = await signIn(key);
    for (let i = 0; i < 2; i++) expect((await call("GET", "/v1/whoami", { key: live.token })).status).toBe(200);
    expectProblem(await call("GET", "/v1/whoami", { key: live.token }), 429, "rate_limited");
    const test = await switchMode(live.token, "test");
    expect(test.status, test.text).toBe(201);
    const first = await call("GET", "/v1/whoami", { key: test.body.token });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    expect((await call("GET", "/v1/whoami", { key: test.body.token })).status).toBe(200);
    expectProblem(await call("GET", "/v1/whoami", { key: test.body.token }), 429, "rate_limited");
    // The live key's own budget is still spent.
    expectProblem(await call("GET", "/v1/whoami", { key }), 429, "rate_limited");
  });

  it("a test key has the tenant's limits, counted apart from the live keys'", async () => {
    const { key } = await newTenant({ rateLimits: { read: { limit: 2, windowSeconds: 60 }, write: { limit: 30, windowSeconds: 60 } } });
    const testKey = await newKey(key, { scopes: ["keys:read"], mode: "test" });
    for (let i = 0; i < 2; i++) expect((await call("GET", "/v1/whoami", { key })).status).toBe(200);
    expectProblem(await call("GET", "/v1/whoami", { key }), 429, "rate_limited");
    const res = await call("GET", "/v1/whoami", { key: testKey.key });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toBe('"read";q=2;w=60');
  });
});

describe("gateway: test credentials reach the origin with X-Hookgate-Mode: test, signed by v2", () => {
  beforeEach(async () => {
    expect((await putScopes([{ name: "tests:read" }, { name: "tests:write" }])).status).toBe(200);
    expect((await putGateway({ routes: [{ path: "/tests/*" }] })).status).toBe(200);
  });
  afterEach(() => vi.restoreAllMocks());

  async function expectSignedMode(
    sent: Headers,
    f: { method: string; target: string; tenantId: string; credentialId: string; mode: string },
  ) {
    const { t, v1, v2 } = parseSignature(sent.get("x-hookgate-signature"));
    const fields = { ...f, t, requestId: sent.get("x-hookgate-request-id")!, scopes: sent.get("x-hookgate-scopes")! };
    expect(sent.get("x-hookgate-mode")).toBe(f.mode);
    // Recomputed here as an origin would (HMAC-SHA256 over the documented lines), not with Hookgate's code.
    expect(v2).toBe(await expectedSignatureV2(fields));
    expect(v2).not.toBe(await expectedSignatureV2({ ...fields, mode: f.mode === "test" ? "live" : "test" }));
    expect(v1).toBe(await expectedSignature(t, f.method, f.target, f.tenantId, f.credentialId, fields.requestId));
  }

  it("a test key: mode test; a live key: mode live; a spoofed inbound mode header is dropped", async () => {
    const { key, keyId, tenant } = await newTenant();
    const testKey = await newKey(key, { scopes: ["tests:read"], mode: "test" });
    const origin = stubOrigin();
    const res = await callUrl("GET", `${BASE}/tests/1?a=b`, { key: testKey.key, headers: { "x-hookgate-mode": "live" } });
    expect(res.status).toBe(200);
    await expectSignedMode(origin.calls[0]!.headers, {
      method: "GET",
      target: "/tests/1?a=b",
      tenantId: tenant.id,
      credentialId: testKey.id,
      mode: "test",
    });
    const liveRes = await callUrl("POST", `${BASE}/tests/2`, { key, headers: { "x-hookgate-mode": "test" }, body: "{}" });
    expect(liveRes.status).toBe(200);
    await expectSignedMode(origin.calls[1]!.headers, {
      method: "POST",
      target: "/tests/2",
      tenantId: tenant.id,
      credentialId: keyId,
      mode: "live",
    });
  });

  it("a test OAuth client's token: mode test", async () => {
    const { key, tenant } = await newTenant();
    const testKey = await newKey(key, { scopes: ["tests:read", "keys:read", "keys:write"], mode: "test" });
    const client = await newClient(testKey.key, { scopes: ["tests:read"] });
    const token = await tokenFor(client);
    const origin = stubOrigin();
    const res = await callUrl("GET", `${BASE}/tests/3`, { key: token });
    expect(res.status).toBe(200);
    await expectSignedMode(origin.calls[0]!.headers, {
      method: "GET",
      target: "/tests/3",
      tenantId: tenant.id,
      credentialId: client.id,
      mode: "test",
    });
  });
});
