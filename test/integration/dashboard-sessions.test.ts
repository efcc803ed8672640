import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SESSION_MAX_SECONDS, signSessionToken } from "../../src/auth/session-tokens";
import { TEST_SECRETS } from "../test-secrets";
import { call, expectProblem, newClient, newKey, newTenant, tokenFor } from "./helpers";

/** Signs in with `key`; returns the session body. */
async function signIn(key: string, ip?: string) {
  const res = await call("POST", "/v1/dashboard-sessions", { key, ip });
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  return res.body as {
    token: string;
    sessionId: string;
    kind: string;
    expiresAt: string;
    tenantId: string;
    credentialId: string;
    scopes: string[];
  };
}

describe("sign-in: an API key exchanged for a dashboard session", () => {
  it("answers a session token that acts as the key: its tenant, its id, its scopes, for 8 h", async () => {
    const { key, tenant } = await newTenant();
    const reader = await newKey(key, { scopes: ["keys:read", "webhooks:read"] });
    const before = Date.now();
    const s = await signIn(reader.key);
    expect(s).toMatchObject({ kind: "dashboard", tenantId: tenant.id, credentialId: reader.id, scopes: ["keys:read", "webhooks:read"] });
    expect(s.sessionId).toMatch(/^ses_/);
    expect(s.token.split(".")).toHaveLength(3);
    expect(s.token).not.toContain(reader.key);
    const lifetime = Date.parse(s.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(SESSION_MAX_SECONDS * 1000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(SESSION_MAX_SECONDS * 1000 + 1000);

    const who = await call("GET", "/v1/whoami", { key: s.token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      tenantId: tenant.id,
      credentialId: reader.id,
      credentialType: "api_key",
      scopes: ["keys:read", "webhooks:read"],
    });
    expect((await call("GET", "/v1/keys", { key: s.token })).status).toBe(200);
    // Not the key's scopes: refused like the key would be.
    const write = await call("POST", "/v1/keys", { key: s.token, body: { name: "nope", scopes: ["keys:read"] } });
    expectProblem(write, 403, "insufficient_scope");
    expect(write.body.requiredScope).toBe("keys:write");
    expectProblem(await call("GET", "/v1/audit-log", { key: s.token }), 403, "insufficient_scope");
  });

  it("a wrong key is refused (401), and so is a request without one", async () => {
    expectProblem(await call("POST", "/v1/dashboard-sessions", { key: "hg_live_nope_nope" }), 401, "invalid_credential");
    expectProblem(await call("POST", "/v1/dashboard-sessions"), 401, "unauthorized");
  });

  it("the session can write where the key can, and what it creates is audited under the key", async () => {
    const { key } = await newTenant();
    const writer = await newKey(key, { scopes: ["keys:read", "keys:write", "audit:read"] });
    const s = await signIn(writer.key);
    const made = await call("POST", "/v1/keys", { key: s.token, body: { name: "from the dashboard", scopes: ["keys:read"] } });
    expect(made.status).toBe(201);
    const audit = await call("GET", "/v1/audit-log?limit=100", { key: s.token });
    const actions = (audit.body.data as { action: string; actor: string; target: string }[]).map((e) => [e.action, e.actor]);
    expect(actions).toContainEqual(["key.created", writer.id]);
    expect(actions).toContainEqual(["dashboard.session_started", writer.id]);
  });

  it("spends the key's own rate-limit budget (signing in twice does not double it)", async () => {
    const { key } = await newTenant();
    const limited = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 3, windowSeconds: 60 } } });
    const a = await signIn(limited.key);
    const b = await signIn(limited.key);
    expect((await call("GET", "/v1/keys", { key: limited.key })).status).toBe(200);
    const viaA = await call("GET", "/v1/keys", { key: a.token });
    expect(viaA.status).toBe(200);
    expect(viaA.headers.get("ratelimit-policy")).toBe('"read";q=3;w=60');
    expect((await call("GET", "/v1/keys", { key: b.token })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: a.token }), 429, "rate_limited");
    expectProblem(await call("GET", "/v1/keys", { key: limited.key }), 429, "rate_limited");
  });

  it("keeps the key's IP allowlist", async () => {
    const { key } = await newTenant();
    const fenced = await newKey(key, { scopes: ["keys:read"], ipAllowlist: ["203.0.113.0/24"] });
    const s = await signIn(fenced.key, "203.0.113.7");
    expect((await call("GET", "/v1/keys", { key: s.token, ip: "203.0.113.9" })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: s.token, ip: "198.51.100.1" }), 403, "ip_not_allowed");
  });

  it("ends with the key: never later than the key's own expiry", async () => {
    const { key } = await newTenant();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const short = await newKey(key, { scopes: ["keys:read"], expiresAt });
    const s = await signIn(short.key);
    expect(Date.parse(s.expiresAt)).toBe(Date.parse(expiresAt));
  });

  it("only an API key signs in: not an OAuth token, not a session (which may not extend itself)", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expectProblem(await call("POST", "/v1/dashboard-sessions", { key: token }), 403, "credential_type_not_allowed");
    const s = await signIn(key);
    expectProblem(await call("POST", "/v1/dashboard-sessions", { key: s.token }), 403, "credential_type_not_allowed");
  });
});

describe("sign-out and the session's end", () => {
  it("signing out refuses the session's very next request, while the key and other sessions keep working", async () => {
    const { key } = await newTenant();
    const s = await signIn(key);
    const other = await signIn(key);
    expect((await call("GET", "/v1/keys", { key: s.token })).status).toBe(200);
    const out = await call("DELETE", "/v1/dashboard-sessions/current", { key: s.token });
    expect(out.status).toBe(204);
    const after = await call("GET", "/v1/keys", { key: s.token });
    expectProblem(after, 401, "session_ended");
    expect(after.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectProblem(await call("DELETE", "/v1/dashboard-sessions/current", { key: s.token }), 401, "session_ended");
    expect((await call("GET", "/v1/keys", { key: other.token })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key })).status).toBe(200);
  });

  it("the end is held by the key's Durable Object: it answers for every isolate", async () => {
    const { key, keyId } = await newTenant();
    const s = await signIn(key);
    const gate = env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(keyId));
    await gate.endSession(s.sessionId);
    expectProblem(await call("GET", "/v1/whoami", { key: s.token }), 401, "session_ended");
  });

  it("a key that signs out has nothing to end (403)", async () => {
    const { key } = await newTenant();
    expectProblem(await call("DELETE", "/v1/dashboard-sessions/current", { key }), 403, "credential_type_not_allowed");
  });

  it("revoking the key ends its sessions at once", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    const s = await signIn(k.key);
    expect((await call("GET", "/v1/keys", { key: s.token })).status).toBe(200);
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: s.token }), 401, "credential_revoked");
  });

  it("a session token past its expiry is refused (401 credential_expired)", async () => {
    const { key, keyId, tenant } = await newTenant();
    const live = await signIn(key);
    const now = Date.now();
    const expired = await signSessionToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      credentialId: keyId,
      tenantId: tenant.id,
      sessionId: live.sessionId,
      kind: "dashboard",
      scopes: ["api:read"],
      rateLimits: null,
      expiresAt: now - 1000,
      now: now - SESSION_MAX_SECONDS * 1000,
    });
    expectProblem(await call("GET", "/v1/keys", { key: expired }), 401, "credential_expired");
  });

  it("a session unknown to the key's object is refused, even with a valid signature", async () => {
    const { key, keyId, tenant } = await newTenant();
    const forge = (credentialId: string) =>
      signSessionToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
        credentialId,
        tenantId: tenant.id,
        sessionId: "ses_neverstarted",
        kind: "dashboard",
        scopes: ["api:read"],
        rateLimits: null,
        expiresAt: Date.now() + 3600_000,
      });
    // A key that never signed in: its object learnt its policy at creation, and no session of it is live.
    const untouched = await newKey(key, { scopes: ["keys:read"] });
    expectProblem(await call("GET", "/v1/keys", { key: await forge(untouched.id) }), 401, "session_ended");
    // A key with live sessions: this one is not among them.
    await signIn(key);
    expectProblem(await call("GET", "/v1/keys", { key: await forge(keyId) }), 401, "session_ended");
  });

  it("a token signed with another secret, or lasting longer than 8 h, is not a session", async () => {
    const { key, keyId, tenant } = await newTenant();
    const live = await signIn(key);
    const input = {
      credentialId: keyId,
      tenantId: tenant.id,
      sessionId: live.sessionId,
      kind: "dashboard" as const,
      scopes: ["api:read"],
      rateLimits: null,
      expiresAt: Date.now() + 3600_000,
    };
    const wrongSecret = await signSessionToken("another-signing-key-0123456789abcdef012345", input);
    expectProblem(await call("GET", "/v1/keys", { key: wrongSecret }), 401, "invalid_credential");
    const tooLong = await signSessionToken(TEST_SECRETS.TOKEN_SIGNING_KEY, { ...input, expiresAt: Date.now() + 9 * 3600_000 });
    expectProblem(await call("GET", "/v1/keys", { key: tooLong }), 401, "invalid_credential");
  });

  it("works only on Hookgate's own API: the verify API does not take a session", async () => {
    const { key } = await newTenant();
    const s = await signIn(key);
    const res = await call("POST", "/admin/verify", { admin: true, body: { credential: s.token } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: false, code: "unknown_credential" });
  });
});
