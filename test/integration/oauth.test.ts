import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/tokens";
import { TEST_SECRETS } from "../test-secrets";
import { call, expectProblem, newKey, newTenant, sleep, unique, type Result } from "./helpers";

type Client = { id: string; clientId: string; clientSecret: string; body: any };

async function newClient(key: string, body: Record<string, unknown> = {}): Promise<Client> {
  const res = await call("POST", "/v1/oauth-clients", { key, body: { name: unique("client"), scopes: ["keys:read", "keys:write"], ...body } });
  if (res.status !== 201) throw new Error(`client create failed: ${res.status} ${res.text}`);
  return { id: res.body.id, clientId: res.body.clientId, clientSecret: res.body.clientSecret, body: res.body };
}

const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

type TokenOptions = { basic?: { id: string; secret: string }; headers?: Record<string, string>; ip?: string };

/** POST /oauth/token with a form body (a string is sent as is). */
function tokenRequest(form: Record<string, string> | string, opts: TokenOptions = {}): Promise<Result> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...opts.headers };
  if (opts.basic) headers.authorization = basic(opts.basic.id, opts.basic.secret);
  const rawBody = typeof form === "string" ? form : new URLSearchParams(form).toString();
  return call("POST", "/oauth/token", { rawBody, headers, ip: opts.ip });
}

async function tokenFor(client: Client, scope?: string): Promise<string> {
  const res = await tokenRequest(
    { grant_type: "client_credentials", ...(scope !== undefined && { scope }) },
    { basic: { id: client.clientId, secret: client.clientSecret } },
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return res.body.access_token;
}

/** An RFC 6749 §5.2 error response. */
function expectOAuthError(res: Result, status: number, error: string) {
  if (res.status !== status || res.body?.error !== error) {
    throw new Error(`expected ${status} ${error}, got ${res.status}: ${res.text}`);
  }
  expect(typeof res.body.error_description).toBe("string");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  if (status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
}

const b64urlJson = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function flipChar(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
}

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
    expect((await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } })).status).toBe(200);
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

describe("POST /oauth/token", () => {
  it("issues a token with HTTP Basic client authentication", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const res = await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.clientId, secret: client.clientSecret } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      token_type: "Bearer",
      expires_in: 3600,
      scope: "keys:read keys:write",
    });
  });

  it("issues a token with client credentials in the body", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const res = await tokenRequest({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body.token_type).toBe("Bearer");
    expect(res.body.expires_in).toBe(3600);
    expect(res.body.scope).toBe("keys:read keys:write");
    const use = await call("GET", "/v1/keys", { key: res.body.access_token });
    expect(use.status).toBe(200);
  });

  it("accepts a content type with a charset parameter", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const res = await tokenRequest(
      { grant_type: "client_credentials" },
      { basic: { id: client.id, secret: client.clientSecret }, headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" } },
    );
    expect(res.status).toBe(200);
  });

  it("the token authenticates API requests as Authorization: Bearer, with rate-limit headers", async () => {
    const { key, keyId } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    const res = await call("GET", "/v1/keys", { key: token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: { id: string }) => k.id)).toContain(keyId);
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("59");
    expect(res.headers.get("ratelimit-policy")).toBe('"read";q=60;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/^"read";r=59;t=\d+$/);
    // The audit trail names the client as the actor of what its token does.
    const created = await call("POST", "/v1/keys", { key: token, body: { name: unique(), scopes: ["keys:read"] } });
    expect(created.status).toBe(201);
    expect(created.headers.get("ratelimit-policy")).toBe('"write";q=30;w=60');
  });

  it("a token and a fresh one share the client's budget", async () => {
    const { tenant, key } = await newTenant();
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { rateLimits: { read: { limit: 3, windowSeconds: 60 } } } });
    const client = await newClient(key);
    const t1 = await tokenFor(client);
    const t2 = await tokenFor(client);
    expect(t1).not.toBe(t2);
    expect((await call("GET", "/v1/keys", { key: t1 })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: t2 })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: t1 })).status).toBe(200);
    const refused = await call("GET", "/v1/keys", { key: t2 });
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.policy).toBe("read:3/1m");
    // Another client of the tenant has its own budget.
    expect((await call("GET", "/v1/keys", { key: await tokenFor(await newClient(key)) })).status).toBe(200);
  });

  it("narrows the token to a requested subset of scopes", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "keys:read" }, { basic: { id: client.id, secret: client.clientSecret } });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe("keys:read");
    const token = res.body.access_token;
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    const post = await call("POST", "/v1/keys", { key: token, body: { name: unique(), scopes: ["keys:read"] } });
    expectProblem(post, 403, "insufficient_scope");
    expect(post.body.requiredScope).toBe("keys:write");
  });

  it("allows a concrete scope covered by a wildcard the client holds", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["api:read"] });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "keys:read audit:read" }, { basic: { id: client.id, secret: client.clientSecret } });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe("keys:read audit:read");
    expect((await call("GET", "/v1/audit-log", { key: res.body.access_token })).status).toBe(200);
  });

  it("refuses a scope the client does not hold, and an unknown scope, with invalid_scope", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["keys:read"] });
    const creds = { basic: { id: client.id, secret: client.clientSecret } };
    for (const scope of ["keys:write", "keys:read webhooks:read", "api:read", "keys:admin", "keys:read bogus"]) {
      expectOAuthError(await tokenRequest({ grant_type: "client_credentials", scope }, creds), 400, "invalid_scope");
    }
  });

  it("refuses malformed requests with invalid_request", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const creds = { basic: { id: client.id, secret: client.clientSecret } };
    // grant_type missing.
    expectOAuthError(await tokenRequest({}, creds), 400, "invalid_request");
    expectOAuthError(await tokenRequest({ scope: "keys:read" }, creds), 400, "invalid_request");
    // A JSON body.
    const json = await call("POST", "/oauth/token", {
      body: { grant_type: "client_credentials", client_id: client.id, client_secret: client.clientSecret },
    });
    expectOAuthError(json, 400, "invalid_request");
    // No content type.
    expectOAuthError(
      await call("POST", "/oauth/token", { rawBody: "grant_type=client_credentials", headers: { authorization: basic(client.id, client.clientSecret) } }),
      400,
      "invalid_request",
    );
    // Client credentials by both methods.
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials", client_id: client.id, client_secret: client.clientSecret }, creds),
      400,
      "invalid_request",
    );
    // A parameter sent twice.
    expectOAuthError(await tokenRequest("grant_type=client_credentials&grant_type=client_credentials", creds), 400, "invalid_request");
    expectOAuthError(await tokenRequest("grant_type=client_credentials&scope=keys:read&scope=keys:write", creds), 400, "invalid_request");
  });

  it("refuses other grant types with unsupported_grant_type", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const creds = { basic: { id: client.id, secret: client.clientSecret } };
    for (const grant of ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"]) {
      expectOAuthError(await tokenRequest({ grant_type: grant, username: "u", password: "p" }, creds), 400, "unsupported_grant_type");
    }
  });

  it("refuses bad client authentication with 401 invalid_client and WWW-Authenticate", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const other = await newClient(key);
    const grant = { grant_type: "client_credentials" };
    const cases: [string, Promise<Result>][] = [
      ["wrong secret (Basic)", tokenRequest(grant, { basic: { id: client.id, secret: `${client.clientSecret}x` } })],
      ["another client's secret", tokenRequest(grant, { basic: { id: client.id, secret: other.clientSecret } })],
      ["wrong secret (body)", tokenRequest({ ...grant, client_id: client.id, client_secret: "nope" })],
      ["unknown client", tokenRequest(grant, { basic: { id: "cli_doesnotexist00000000", secret: client.clientSecret } })],
      ["not a client id", tokenRequest(grant, { basic: { id: "key_abc", secret: "x" } })],
      ["no client authentication", tokenRequest(grant)],
      ["id without secret", tokenRequest({ ...grant, client_id: client.id })],
      ["secret without id", tokenRequest({ ...grant, client_secret: client.clientSecret })],
      ["bearer instead of basic", tokenRequest(grant, { headers: { authorization: `Bearer ${client.clientSecret}` } })],
      ["basic without colon", tokenRequest(grant, { headers: { authorization: `Basic ${btoa(client.id)}` } })],
      ["basic not base64", tokenRequest(grant, { headers: { authorization: "Basic !!!" } })],
      ["an API key as client", tokenRequest(grant, { basic: { id: client.id, secret: key } })],
    ];
    for (const [label, pending] of cases) {
      const res = await pending;
      try {
        expectOAuthError(res, 401, "invalid_client");
      } catch (err) {
        throw new Error(`${label}: ${(err as Error).message}`);
      }
      expect(res.text, label).not.toContain(client.clientSecret);
    }
  });

  it("rate limits token requests per client (20/min), counting wrong secrets as a brute-force guard", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const other = await newClient(key);
    const token = await tokenFor(client); // 1
    for (let i = 0; i < 14; i++) {
      expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: `guess-${i}` } }), 401, "invalid_client");
    }
    for (let i = 0; i < 5; i++) expect((await tokenRequest({ grant_type: "client_credentials", client_id: client.id, client_secret: client.clientSecret })).status).toBe(200);
    // 20 so far: the 21st is refused, right secret or wrong.
    for (const secret of [client.clientSecret, "guess-again"]) {
      const res = await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret } });
      expectProblem(res, 429, "rate_limited");
      expect(res.body.policy).toBe("token:20/1m");
      expect(res.body.retryAfter).toBeGreaterThanOrEqual(1);
      expect(res.body.retryAfter).toBeLessThanOrEqual(3);
      expect(res.headers.get("retry-after")).toBe(String(res.body.retryAfter));
      expect(res.headers.get("ratelimit-policy")).toBe('"token";q=20;w=60');
    }
    // Another client is not affected, and neither is the token's API budget.
    expect((await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: other.id, secret: other.clientSecret } })).status).toBe(200);
    const use = await call("GET", "/v1/keys", { key: token });
    expect(use.status).toBe(200);
    expect(use.headers.get("x-ratelimit-remaining")).toBe("59");
  });

  it("rate limits concurrent token requests exactly", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const results = await Promise.all(
      Array.from({ length: 25 }, () => tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } })),
    );
    expect(results.filter((r) => r.status === 200).length).toBe(20);
    expect(results.filter((r) => r.status === 429).length).toBe(5);
  });

  it("refuses a token request from outside the client's IP allowlist; its tokens are refused there too", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { ipAllowlist: ["203.0.113.0/24"] });
    const creds = { basic: { id: client.id, secret: client.clientSecret } };
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { ...creds, ip: "198.51.100.1" }), 400, "unauthorized_client");
    const ok = await tokenRequest({ grant_type: "client_credentials" }, { ...creds, ip: "203.0.113.9" });
    expect(ok.status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: ok.body.access_token, ip: "203.0.113.10" })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: ok.body.access_token, ip: "198.51.100.1" }), 403, "ip_not_allowed");
  });

  it("an expired client gets invalid_client, and its tokens 401 credential_expired", async () => {
    const { key } = await newTenant();
    const expiresAt = Date.now() + 1_500;
    const client = await newClient(key, { expiresAt: new Date(expiresAt).toISOString() });
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    await sleep(Math.max(0, expiresAt + 100 - Date.now()));
    expectProblem(await call("GET", "/v1/keys", { key: token }), 401, "credential_expired");
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }), 401, "invalid_client");
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
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }), 401, "invalid_client");
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

describe("access token verification", () => {
  async function setup() {
    const { tenant, key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    return { tenant, key, client, token };
  }

  it("accepts a token signed with the deployment's key for a live client (test key sanity check)", async () => {
    const { tenant, client } = await setup();
    const { token } = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, { clientId: client.id, tenantId: tenant.id, scopes: ["keys:read"] });
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
  });

  it("refuses a tampered token (a flipped character in header, payload or signature)", async () => {
    const { token } = await setup();
    const [h, p, s] = token.split(".") as [string, string, string];
    const positions = [3, h.length + 1 + 5, h.length + 1 + Math.floor(p.length / 2), h.length + p.length + 2 + 3, token.length - 2];
    for (const i of positions) {
      const res = await call("GET", "/v1/keys", { key: flipChar(token, i) });
      expect(res.status, `flip at ${i}`).toBe(401);
      expect(res.body.code).toBe("invalid_credential");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    // Edited claims (more scopes) under the old signature.
    const claims = JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/")));
    const forged = `${h}.${b64urlJson({ ...claims, scope: "api:read api:write" })}.${s}`;
    expectProblem(await call("GET", "/v1/keys", { key: forged }), 401, "invalid_credential");
  });

  it("refuses a token signed with another key", async () => {
    const { tenant, client } = await setup();
    const { token } = await signAccessToken("some-other-signing-key-0123456789abcdef", {
      clientId: client.id,
      tenantId: tenant.id,
      scopes: ["keys:read"],
    });
    expectProblem(await call("GET", "/v1/keys", { key: token }), 401, "invalid_credential");
  });

  it("refuses an alg: none token", async () => {
    const { tenant, client } = await setup();
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "hookgate", aud: "hookgate-api", sub: client.id, ten: tenant.id, scope: "api:read api:write", iat: now, exp: now + 3600, jti: "x" };
    for (const token of [
      `${b64urlJson({ alg: "none", typ: "JWT" })}.${b64urlJson(claims)}.`,
      `${b64urlJson({ alg: "none", typ: "JWT" })}.${b64urlJson(claims)}.c2ln`,
    ]) {
      expectProblem(await call("GET", "/v1/keys", { key: token }), 401, "invalid_credential");
    }
  });

  it("refuses an expired token with 401 credential_expired", async () => {
    const { tenant, client } = await setup();
    const { token } = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      clientId: client.id,
      tenantId: tenant.id,
      scopes: ["keys:read"],
      now: Date.now() - 3601_000,
    });
    const res = await call("GET", "/v1/keys", { key: token });
    expectProblem(res, 401, "credential_expired");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("refuses a token naming a client or tenant that does not exist", async () => {
    const { tenant, client } = await setup();
    const unknownClient = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      clientId: "cli_doesnotexist000000",
      tenantId: tenant.id,
      scopes: ["keys:read"],
    });
    expectProblem(await call("GET", "/v1/keys", { key: unknownClient.token }), 401, "invalid_credential");
    const unknownTenant = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      clientId: client.id,
      tenantId: "ten_doesnotexist000000",
      scopes: ["keys:read"],
    });
    expectProblem(await call("GET", "/v1/keys", { key: unknownTenant.token }), 401, "invalid_credential");
  });

  it("works through X-Api-Key too", async () => {
    const { token } = await setup();
    expect((await call("GET", "/v1/keys", { key: token, apiKeyHeader: true })).status).toBe(200);
  });
});

describe("tenant API access", () => {
  it("apiAccess false: token requests get unauthorized_client and existing tokens 403 api_access_disabled", async () => {
    const { tenant, key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);

    expect((await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: false } })).status).toBe(200);
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }), 400, "unauthorized_client");
    expectProblem(await call("GET", "/v1/keys", { key: token }), 403, "api_access_disabled");
    expectProblem(await call("GET", "/v1/keys", { key }), 403, "api_access_disabled");
    // A wrong secret is still invalid_client: the secret is checked first.
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: "wrong" } }), 401, "invalid_client");

    expect((await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: true } })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    expect((await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } })).status).toBe(200);
  });
});

describe("client usage", () => {
  it("the alarm flushes the client's lastUsedAt to D1", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const token = await tokenFor(client);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    const stub = env.CREDENTIAL_LIMITER.get(env.CREDENTIAL_LIMITER.idFromName(client.id));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const got = await call("GET", `/v1/oauth-clients/${client.id}`, { key });
    expect(got.body.lastUsedAt).not.toBeNull();
    expect(Date.parse(got.body.lastUsedAt)).toBeLessThanOrEqual(Date.now());
    const row = await env.DB.prepare("SELECT count FROM credential_usage WHERE credential_id = ?").bind(client.id).first<{ count: number }>();
    // The API request only: token requests are not use of the client.
    expect(row?.count).toBe(1);
  });

  it("token requests, wrong secrets above all, do not make a client look used", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    expectOAuthError(await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: "guess" } }), 401, "invalid_client");
    await tokenFor(client);
    const stub = env.CREDENTIAL_LIMITER.get(env.CREDENTIAL_LIMITER.idFromName(client.id));
    await runDurableObjectAlarm(stub);
    expect((await call("GET", `/v1/oauth-clients/${client.id}`, { key })).body.lastUsedAt).toBeNull();
    const row = await env.DB.prepare("SELECT count FROM credential_usage WHERE credential_id = ?").bind(client.id).first();
    expect(row).toBeNull();
  });
});
