import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectProblem, fieldError, newClient, newKey, newTenant, sha256Hex, tokenFor } from "./helpers";

type Link = { url: string; expiresAt: string; scopes: string[] };

async function newLink(key: string, body?: Record<string, unknown>): Promise<Link> {
  const res = await call("POST", "/v1/portal-sessions", { key, body });
  if (res.status !== 201) throw new Error(`portal link failed: ${res.status} ${res.text}`);
  return res.body;
}

/** The one-time token of a link: its URL's fragment. */
const tokenOf = (link: Link) => new URL(link.url).hash.replace(/^#token=/, "");
const redeem = (token: string) => call("POST", "/v1/portal-sessions/redeem", { body: { token } });

describe("POST /v1/portal-sessions", () => {
  it("answers a one-time link into the tenant's portal, the secret in its fragment", async () => {
    const { key, tenant } = await newTenant();
    const before = Date.now();
    const link = await newLink(key, { scopes: ["webhooks:read"], expiresInSeconds: 600 });
    const url = new URL(link.url);
    expect(url.origin).toBe("http://hookgate.test");
    expect(url.pathname).toBe(`/dashboard/portal/${tenant.id}`);
    expect(url.search).toBe("");
    expect(tokenOf(link)).toMatch(/^[A-Za-z0-9]{43}$/);
    expect(link.scopes).toEqual(["webhooks:read"]);
    const ttl = Date.parse(link.expiresAt) - before;
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(601_000);
    // Stored hashed, never in clear.
    const row = await env.DB.prepare("SELECT token_hash, scopes, session_seconds, used_at FROM portal_links WHERE tenant_id = ?")
      .bind(tenant.id)
      .first();
    expect(row).toMatchObject({ token_hash: await sha256Hex(tokenOf(link)), session_seconds: 600, used_at: null });
  });

  it("defaults to the caller's scopes and one hour", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read", "events:read"] });
    const before = Date.now();
    const link = await newLink(k.key);
    expect(link.scopes).toEqual(["keys:read", "events:read"]);
    expect(Date.parse(link.expiresAt) - before).toBeGreaterThan(3590_000);
  });

  it("refuses scopes the caller does not hold (403) and unknown ones (422)", async () => {
    const { key } = await newTenant();
    const reader = await newKey(key, { scopes: ["webhooks:read"] });
    const res = await call("POST", "/v1/portal-sessions", { key: reader.key, body: { scopes: ["webhooks:read", "webhooks:write"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("webhooks:write");
    expectProblem(await call("POST", "/v1/portal-sessions", { key, body: { scopes: ["nope:read"] } }), 422, "validation_failed");
  });

  it("expiresInSeconds is 300..86400", async () => {
    const { key } = await newTenant();
    for (const bad of [299, 86_401, 1.5, "600"]) {
      const res = await call("POST", "/v1/portal-sessions", { key, body: { expiresInSeconds: bad } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "expiresInSeconds").message).toBeTruthy();
    }
    expect((await call("POST", "/v1/portal-sessions", { key, body: { expiresInSeconds: 86_400 } })).status).toBe(201);
  });

  it("needs a credential; a portal session cannot make links", async () => {
    expectProblem(await call("POST", "/v1/portal-sessions", { body: {} }), 401, "unauthorized");
    const { key } = await newTenant();
    const opened = await redeem(tokenOf(await newLink(key)));
    expect(opened.status).toBe(201);
    expectProblem(await call("POST", "/v1/portal-sessions", { key: opened.body.token, body: {} }), 403, "credential_type_not_allowed");
  });
});

describe("opening a portal link", () => {
  it("works once: it starts a portal session with the link's scopes; the second opening is 410", async () => {
    const { key, keyId, tenant } = await newTenant();
    const link = await newLink(key, { scopes: ["webhooks:read", "keys:read"] });
    const first = await redeem(tokenOf(link));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ kind: "portal", tenantId: tenant.id, credentialId: keyId, scopes: ["webhooks:read", "keys:read"] });
    expect((await call("GET", "/v1/webhooks", { key: first.body.token })).status).toBe(200);
    expectProblem(
      await call("POST", "/v1/keys", { key: first.body.token, body: { name: "x", scopes: ["keys:read"] } }),
      403,
      "insufficient_scope",
    );

    const again = await redeem(tokenOf(link));
    expectProblem(again, 410, "portal_link_expired");
    expect(again.body.detail).toBe("This link has expired or was already used");
    // The first session is unaffected.
    expect((await call("GET", "/v1/webhooks", { key: first.body.token })).status).toBe(200);
  });

  it("of concurrent openings exactly one wins", async () => {
    const { key } = await newTenant();
    const token = tokenOf(await newLink(key));
    const results = await Promise.all(Array.from({ length: 6 }, () => redeem(token)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expectProblem(r, 410, "portal_link_expired");
  });

  it("an expired link, an unknown token and a malformed body are refused", async () => {
    const { key, tenant } = await newTenant();
    const link = await newLink(key);
    await env.DB.prepare("UPDATE portal_links SET expires_at = ? WHERE tenant_id = ?")
      .bind(Date.now() - 1000, tenant.id)
      .run();
    expectProblem(await redeem(tokenOf(link)), 410, "portal_link_expired");
    expectProblem(await redeem("A".repeat(43)), 410, "portal_link_expired");
    expectProblem(await call("POST", "/v1/portal-sessions/redeem", { body: {} }), 422, "validation_failed");
  });

  it("the session lasts the link's time, 8 h at most, and not past its creator", async () => {
    const { key } = await newTenant();
    let before = Date.now();
    const short = await redeem(tokenOf(await newLink(key, { expiresInSeconds: 900 })));
    expect(Date.parse(short.body.expiresAt) - before).toBeLessThanOrEqual(901_000);
    expect(Date.parse(short.body.expiresAt) - before).toBeGreaterThan(890_000);
    before = Date.now();
    const long = await redeem(tokenOf(await newLink(key, { expiresInSeconds: 86_400 })));
    expect(Date.parse(long.body.expiresAt) - before).toBeLessThanOrEqual(8 * 3600_000 + 1000);
    expect(Date.parse(long.body.expiresAt) - before).toBeGreaterThan(8 * 3600_000 - 10_000);
  });

  it("a link whose creator was revoked opens nothing, and revoking it ends its portal sessions", async () => {
    const { key } = await newTenant();
    const maker = await newKey(key, { scopes: ["keys:read"] });
    const unopened = await newLink(maker.key);
    const opened = await redeem(tokenOf(await newLink(maker.key)));
    expect((await call("GET", "/v1/keys", { key: opened.body.token })).status).toBe(200);
    expect((await call("DELETE", `/v1/keys/${maker.id}`, { key })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: opened.body.token }), 401, "credential_revoked");
    expectProblem(await redeem(tokenOf(unopened)), 410, "portal_link_expired");
  });

  it("a portal session signs out like a dashboard session", async () => {
    const { key } = await newTenant();
    const s = await redeem(tokenOf(await newLink(key)));
    expect((await call("DELETE", "/v1/dashboard-sessions/current", { key: s.body.token })).status).toBe(204);
    expectProblem(await call("GET", "/v1/whoami", { key: s.body.token }), 401, "session_ended");
  });

  it("an OAuth client can make links too; their sessions act as the client", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["keys:read"] });
    const link = await newLink(await tokenFor(client));
    const s = await redeem(tokenOf(link));
    expect(s.status).toBe(201);
    expect(s.body.credentialId).toBe(client.id);
    const who = await call("GET", "/v1/whoami", { key: s.body.token });
    expect(who.body).toMatchObject({ credentialId: client.id, credentialType: "oauth_client", scopes: ["keys:read"] });
  });

  it("records the link's making and opening in the audit log, never its token", async () => {
    const { key } = await newTenant();
    const link = await newLink(key);
    await redeem(tokenOf(link));
    const audit = await call("GET", "/v1/audit-log?limit=100", { key });
    const actions = (audit.body.data as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["portal_link.created", "portal_link.opened", "dashboard.session_started"]));
    expect(audit.text).not.toContain(tokenOf(link));
  });
});
