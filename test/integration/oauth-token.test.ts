import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/tokens";
import { TEST_SECRETS } from "../test-secrets";
import {
  basic,
  call,
  expectOAuthError,
  expectProblem,
  newClient,
  newTenant,
  type Result,
  sleep,
  tokenFor,
  tokenRequest,
  unique,
} from "./helpers";

const b64urlJson = (value: unknown) => btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function flipChar(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
}

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
      {
        basic: { id: client.id, secret: client.clientSecret },
        headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
      },
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
    const res = await tokenRequest(
      { grant_type: "client_credentials", scope: "keys:read" },
      { basic: { id: client.id, secret: client.clientSecret } },
    );
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
    const res = await tokenRequest(
      { grant_type: "client_credentials", scope: "keys:read audit:read" },
      { basic: { id: client.id, secret: client.clientSecret } },
    );
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
      await call("POST", "/oauth/token", {
        rawBody: "grant_type=client_credentials",
        headers: { authorization: basic(client.id, client.clientSecret) },
      }),
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
      expectOAuthError(
        await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: `guess-${i}` } }),
        401,
        "invalid_client",
      );
    }
    for (let i = 0; i < 5; i++)
      expect(
        (await tokenRequest({ grant_type: "client_credentials", client_id: client.id, client_secret: client.clientSecret })).status,
      ).toBe(200);
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
    expect((await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: other.id, secret: other.clientSecret } })).status).toBe(
      200,
    );
    const use = await call("GET", "/v1/keys", { key: token });
    expect(use.status).toBe(200);
    expect(use.headers.get("x-ratelimit-remaining")).toBe("59");
  });

  it("rate limits concurrent token requests exactly", async () => {
    const { key } = await newTenant();
    const client = await newClient(key);
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }),
      ),
    );
    expect(results.filter((r) => r.status === 200).length).toBe(20);
    expect(results.filter((r) => r.status === 429).length).toBe(5);
  });

  it("refuses a token request from outside the client's IP allowlist; its tokens are refused there too", async () => {
    const { key } = await newTenant();
    const client = await newClient(key, { ipAllowlist: ["203.0.113.0/24"] });
    const creds = { basic: { id: client.id, secret: client.clientSecret } };
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { ...creds, ip: "198.51.100.1" }),
      400,
      "unauthorized_client",
    );
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
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }),
      401,
      "invalid_client",
    );
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
    const { token } = await signAccessToken(TEST_SECRETS.TOKEN_SIGNING_KEY, {
      clientId: client.id,
      tenantId: tenant.id,
      scopes: ["keys:read"],
    });
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
    const claims = {
      iss: "hookgate",
      aud: "hookgate-api",
      sub: client.id,
      ten: tenant.id,
      scope: "api:read api:write",
      iat: now,
      exp: now + 3600,
      jti: "x",
    };
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
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } }),
      400,
      "unauthorized_client",
    );
    expectProblem(await call("GET", "/v1/keys", { key: token }), 403, "api_access_disabled");
    expectProblem(await call("GET", "/v1/keys", { key }), 403, "api_access_disabled");
    // A wrong secret is still invalid_client: the secret is checked first.
    expectOAuthError(
      await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: "wrong" } }),
      401,
      "invalid_client",
    );

    expect((await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: true } })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: token })).status).toBe(200);
    expect(
      (await tokenRequest({ grant_type: "client_credentials" }, { basic: { id: client.id, secret: client.clientSecret } })).status,
    ).toBe(200);
  });
});
