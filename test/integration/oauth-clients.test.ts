import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/tokens";
import { TEST_SECRETS } from "../test-secrets";
import { call, eventually, expectOAuthError, expectProblem, newClient, newKey, newTenant, tokenFor, tokenRequest, unique } from "./helpers";

describe("OAuth clients", () => {
  it("creates a client and shows its secret exactly once", async () => {
    const { key } = await newTenant();
    const res = await call("POST", "/v1/oauth-clients", {
      key,
      body: { name: "CI deployer", scopes: ["keys:read", "api:read", "keys:read"], ipAllowlist: ["203.0.113.0/24"] },
    });
    expect(res.status).toBe(201);
    const c = res.body;
    expect(c.id).toMatch(/^cli_[0-9A-Za-z]+$/);
    expect(c.clientId).toBe(c.id);
    expect(typeof c.clientSecret).toBe("string");
    expect(c.clientSecret.length).toBeGreaterThanOrEqual(32);
    expect(c).toMatchObject({
      name: "CI deployer",
      scopes: ["keys:read", "api:read"],
      ipAllowlist: ["203.0.113.0/24"],
      secretLast4: c.clientSecret.slice(-4),
      expiresAt: null,
      lastUsedAt: null,
    });
    expect(Date.parse(c.createdAt)).not.toBeNaN();

    const got = await call("GET", `/v1/oauth-clients/${c.id}`, { key });
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty("clientSecret");
    expect(got.text).not.toContain(c.clientSecret);
    const { clientSecret: _secret, ...shown } = c;
    expect(got.body).toEqual(shown);

    const list = await call("GET", "/v1/oauth-clients", { key });
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([c.id]);
    expect(list.body.nextCursor).toBeNull();
    expect(list.text).not.toContain(c.clientSecret);
    expect(list.body.data[0]).not.toHaveProperty("clientSecret");
  });

  it("validates the body (422) and needs keys:write (403)", async () => {
    const { key } = await newTenant();
    expectProblem(await call("POST", "/v1/oauth-clients", { key, body: { name: "x", scopes: [] } }), 422, "validation_failed");
    expectProblem(await call("POST", "/v1/oauth-clients", { key, body: { name: "x", scopes: ["keys:admin"] } }), 422, "validation_failed");
    expectProblem(await call("POST", "/v1/oauth-clients", { key, body: { scopes: ["keys:read"] } }), 422, "validation_failed");
    expectProblem(
      await call("POST", "/v1/oauth-clients", { key, body: { name: "x", scopes: ["keys:read"], clientSecret: "mine" } }),
      422,
      "validation_failed",
    );
    const reader = await newKey(key, { scopes: ["keys:read"] });
    const res = await call("POST", "/v1/oauth-clients", { key: reader.key, body: { name: "x", scopes: ["keys:read"] } });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe("keys:write");
    expect((await call("GET", "/v1/oauth-clients", { key: reader.key })).status).toBe(200);
  });

  it("enforces the oauthClients quota (default 5; the 6th is 409), counting only live clients", async () => {
    const { key } = await newTenant();
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await newClient(key));
    const sixth = await call("POST", "/v1/oauth-clients", { key, body: { name: unique(), scopes: ["keys:read"] } });
    expectProblem(sixth, 409, "quota_exceeded");
    expect(sixth.body.quota).toBe("oauthClients");
    expect(sixth.body.limit).toBe(5);
    expect((await call("DELETE", `/v1/oauth-clients/${clients[0]!.id}`, { key })).status).toBe(204);
    expect((await call("POST", "/v1/oauth-clients", { key, body: { name: unique(), scopes: ["keys:read"] } })).status).toBe(201);
  });

  it("honours a tenant's own oauthClients quota, exactly under concurrency", async () => {
    const { key } = await newTenant({ quotas: { oauthClients: 2 } });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call("POST", "/v1/oauth-clients", { key, body: { name: unique(), scopes: ["keys:read"] } })),
    );
    expect(results.filter((r) => r.status === 201).length).toBe(2);
    for (const r of results.filter((r) => r.status !== 201)) expectProblem(r, 409, "quota_exceeded");
  });

  it("refuses scope escalation: a key can only grant what it holds", async () => {
    const { key } = await newTenant();
    const writer = await newKey(key, { scopes: ["keys:write"] });
    const res = await call("POST", "/v1/oauth-clients", { key: writer.key, body: { name: "x", scopes: ["webhooks:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("webhooks:read");
    expectProblem(
      await call("POST", "/v1/oauth-clients", { key: writer.key, body: { name: "x", scopes: ["api:write"] } }),
      403,
      "scope_escalation",
    );
    expect((await call("POST", "/v1/oauth-clients", { key: writer.key, body: { name: "x", scopes: ["keys:write"] } })).status).toBe(201);
  });

  it("a token cannot mint a client with more scopes than the token carries", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["keys:read", "keys:write", "webhooks:read"] });
    const token = await tokenFor(client, "keys:write");
    const res = await call("POST", "/v1/oauth-clients", { key: token, body: { name: "x", scopes: ["webhooks:read"] } });
    expectProblem(res, 403, "scope_escalation");
  });

  it("answers 404 for another tenant's client (get and delete), which keeps working", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const client = await newClient(a.key);
    expectProblem(await call("GET", `/v1/oauth-clients/${client.id}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/oauth-clients/${client.id}`, { key: b.key }), 404, "not_found");
    expect((await call("GET", "/v1/oauth-clients", { key: b.key })).body.data).toEqual([]);
    expect(
      (await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } })).status,
    ).toBe(200);
    // A token of tenant A does not see tenant B's clients either.
    const bClient = await newClient(b.key);
    const aToken = await tokenFor(client);
    expectProblem(await call("GET", `/v1/oauth-clients/${bClient.id}`, { key: aToken }), 404, "not_found");
  });

  it("an unknown or malformed client id is 404", async () => {
    const { key } = await newTenant();
    expectProblem(await call("GET", "/v1/oauth-clients/cli_doesnotexist000000", { key }), 404, "not_found");
    expect([404, 422]).toContain((await call("GET", "/v1/oauth-clients/key_abc", { key })).status);
  });
});

describe("client deletion", () => {
  it("kills already-issued tokens on the very next request and refuses new token requests", async () => {
    const { tenant, key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    const del = await call("DELETE", `/v1/oauth-clients/${client.id}`, { key });
    expect(del.status).toBe(204);
    const res = await call("GET", "/v1/keys", { key: token });
    expectProblem(res, 401, "credential_revoked");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }),
      401,
      "invalid_client",
    );
    expectProblem(await call("GET", `/v1/oauth-clients/${client.id}`, { key }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/oauth-clients/${client.id}`, { key }), 404, "not_found");
    expect((await call("GET", "/v1/oauth-clients", { key })).body.data).toEqual([]);
    // A correctly signed token minted for the deleted client is refused too.
    const { token: forged } = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      clientId: client.id,
      tenantId: tenant.id,
      scopes: ["keys:read"],
    });
    expectProblem(await call("GET", "/v1/keys", { key: forged }), 401, "credential_revoked");
  });

  it("a client can delete itself with its own token (keys:write), and that token dies with it", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expect((await call("DELETE", `/v1/oauth-clients/${client.id}`, { key: token })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: token }), 401, "credential_revoked");
  });
});

describe("client usage", () => {
  it("the alarm flushes the client's lastUsedAt to D1", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    const stub = env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(client.id));
    // The first use after a quiet minute is flushed at once: the runtime may have run the alarm already.
    await runDurableObjectAlarm(stub);
    const got = await eventually(async () => {
      const res = await call("GET", `/v1/oauth-clients/${client.id}`, { key });
      return res.body.lastUsedAt ? res : undefined;
    });
    expect(got.body.lastUsedAt).not.toBeNull();
    expect(Date.parse(got.body.lastUsedAt)).toBeLessThanOrEqual(Date.now());
    // The API request only: token requests are not use of the client.
    const usage = (await call("GET", `/v1/oauth-clients/${client.id}/usage`, { key })).body.data as { total: number }[];
    expect(usage.reduce((n, p) => n + p.total, 0)).toBe(1);
  });

  it("token requests, wrong secrets above all, do not make a client look used", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: "guess" } }),
      401,
      "invalid_client",
    );
    await tokenFor(client);
    const stub = env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(client.id));
    await runDurableObjectAlarm(stub);
    expect((await call("GET", `/v1/oauth-clients/${client.id}`, { key })).body.lastUsedAt).toBeNull();
    expect((await call("GET", `/v1/oauth-clients/${client.id}/usage`, { key })).body).toEqual({ data: [] });
  });
});
