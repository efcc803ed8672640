import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, ORIGIN, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, call, callWithEnv, expectProblem, newKey, newTenant } from "./helpers";

beforeEach(async () => {
  expect((await putScopes([{ name: "tests:read" }, { name: "tests:write" }, { name: "reports:read" }])).status).toBe(200);
});
afterEach(() => vi.restoreAllMocks());

describe("gateway: refused requests never reach the origin", () => {
  beforeEach(async () => {
    expect(
      (
        await putGateway({
          routes: [
            { path: "/tests/*", scope: "tests:read" },
            { path: "/heavy", cost: 25 },
          ],
        })
      ).status,
    ).toBe(200);
  });

  it("no credential → 401 with WWW-Authenticate, whatever the body", async () => {
    const origin = stubOrigin();
    const res = await callUrl("POST", `${BASE}/tests/1`, { body: "x".repeat(300_000), headers: { "content-type": "text/plain" } });
    expectProblem(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(origin.calls).toHaveLength(0);
  });

  it("a malformed, unknown, revoked or expired credential → 401", async () => {
    const { key } = await newTenant();
    const gone = await newKey(key, { scopes: ["tests:read"] });
    await call("DELETE", `/v1/keys/${gone.id}`, { key });
    const origin = stubOrigin();
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: "hg_live_nope_x" }), 401, "invalid_credential");
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: `${key.slice(0, -6)}AAAAAA` }), 401, "invalid_credential");
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: gone.key }), 401, "credential_revoked");
    expect(origin.calls).toHaveLength(0);
  });

  it("a missing scope → 403 naming the route's scope; an IP outside the allowlist → 403; API access off → 403", async () => {
    const { key, tenant } = await newTenant();
    const writer = await newKey(key, { scopes: ["tests:write"] });
    const fenced = await newKey(key, { scopes: ["tests:read"], ipAllowlist: ["203.0.113.0/24"] });
    const origin = stubOrigin();
    const scope = await callUrl("GET", `${BASE}/tests/1`, { key: writer.key });
    expectProblem(scope, 403, "insufficient_scope");
    expect(scope.body.requiredScope).toBe("tests:read");
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: fenced.key, ip: "198.51.100.7" }), 403, "ip_not_allowed");
    expect((await callUrl("GET", `${BASE}/tests/1`, { key: fenced.key, ip: "203.0.113.7" })).status).toBe(200);
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: false } });
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key }), 403, "api_access_disabled");
    expect(origin.calls).toHaveLength(1);
  });

  it("a revoked key outside its scopes hears 401 first (the order of checks)", async () => {
    const { key } = await newTenant();
    const writer = await newKey(key, { scopes: ["tests:write"] });
    await call("DELETE", `/v1/keys/${writer.id}`, { key });
    stubOrigin();
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: writer.key }), 401, "credential_revoked");
  });

  it("spends the route's cost from the credential's bucket, with the same 429 and headers as the API", async () => {
    const { key } = await newTenant();
    const origin = stubOrigin();
    const first = await callUrl("GET", `${BASE}/heavy`, { key });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-remaining")).toBe("35");
    expect((await callUrl("GET", `${BASE}/heavy`, { key })).headers.get("x-ratelimit-remaining")).toBe("10");
    const refused = await callUrl("GET", `${BASE}/heavy`, { key });
    expectProblem(refused, 429, "rate_limited");
    expect(refused.body.policy).toBe("read:60/1m");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit-policy")).toBe('"read";q=60;w=60');
    expect(origin.calls).toHaveLength(2);
    // The API and the gateway share the budget: 10 slots are left for the key's reads.
    expect((await call("GET", "/v1/whoami", { key })).headers.get("x-ratelimit-remaining")).toBe("9");
  });
});

describe("gateway: origin failures", () => {
  it("an unreachable origin → 502, never its internals", async () => {
    await putGateway({ routes: [{ path: "/down" }] });
    const { key } = await newTenant();
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new Error("connect ECONNREFUSED 10.0.0.7:443 (internal detail)"));
    const res = await callUrl("GET", `${BASE}/down`, { key });
    expectProblem(res, 502, "origin_unreachable");
    expect(res.text).not.toContain("10.0.0.7");
  });

  it("no answer within GATEWAY_TIMEOUT_MS → 504", async () => {
    const env = { GATEWAY_TIMEOUT_MS: "150" };
    await callWithEnv(env, "PUT", "/admin/gateway", { admin: true, body: { origin: ORIGIN, routes: [{ path: "/slow" }] } });
    const { key } = await newTenant();
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    );
    const started = Date.now();
    const res = await callWithEnv(env, "GET", "/slow", { key });
    expectProblem(res, 504, "origin_timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("gateway: which requests are the gateway's", () => {
  it("the most specific route wins: exact over prefix, longer prefix over shorter, a method over *", async () => {
    await putGateway({
      routes: [
        { path: "/*", scope: "reports:read" },
        { path: "/tests/*", scope: "tests:read" },
        { path: "/tests/special", scope: "tests:write" },
        { path: "/tests/*", method: "POST", scope: "tests:write" },
      ],
    });
    const { key } = await newTenant();
    const none = await newKey(key, { scopes: ["keys:read"] });
    stubOrigin();
    const needed = async (method: string, path: string) => (await callUrl(method, `${BASE}${path}`, { key: none.key })).body.requiredScope;
    expect(await needed("GET", "/anything/else")).toBe("reports:read");
    expect(await needed("GET", "/tests")).toBe("tests:read");
    expect(await needed("GET", "/tests/7/runs")).toBe("tests:read");
    expect(await needed("GET", "/tests/special")).toBe("tests:write");
    expect(await needed("POST", "/tests/7")).toBe("tests:write");
    expect(await needed("GET", "/testsuite")).toBe("reports:read");
  });

  it("Hookgate's own paths stay Hookgate's on its own hostname, even under a catch-all route", async () => {
    await putGateway({ routes: [{ path: "/*" }] });
    const { key } = await newTenant();
    const origin = stubOrigin();
    expect((await call("GET", "/v1/whoami", { key })).body.tenantId).toBeDefined();
    expect((await call("GET", "/health")).body.ok).toBe(true);
    expect(origin.calls).toHaveLength(0);
  });

  it("on a gateway host every path is the gateway's, Hookgate's own included; no route there → 404 problem", async () => {
    await putGateway({ hosts: ["api.acme.test"], routes: [{ path: "/v1/*" }] });
    const { key } = await newTenant();
    const origin = stubOrigin(() => new Response("origin keys"));
    const res = await callUrl("GET", "https://api.acme.test/v1/keys?limit=1", { key });
    expect(res.text).toBe("origin keys");
    expect(origin.calls[0]!.url).toBe(`${ORIGIN}/v1/keys?limit=1`);
    const missing = await callUrl("GET", "https://API.acme.test/health", { key });
    expectProblem(missing, 404, "not_found");
    // The same path on Hookgate's hostname is Hookgate's.
    expect((await call("GET", "/v1/keys?limit=1", { key })).body.data).toHaveLength(1);
    expect(origin.calls).toHaveLength(1);
  });

  it("a Host with a trailing dot, another case or a port is still the gateway host: Hookgate's API is not reachable there", async () => {
    await putGateway({ hosts: ["api.acme.test"], routes: [{ path: "/v1/*" }] });
    const { key } = await newTenant();
    const origin = stubOrigin(() => new Response("origin keys"));
    for (const host of ["api.acme.test.", "API.Acme.Test.", "api.acme.test:8443", "api.acme.test.:8443"]) {
      const res = await callUrl("GET", `https://${host}/v1/keys?limit=1`, { key });
      expect(res.text, host).toBe("origin keys");
      expectProblem(await callUrl("GET", `https://${host}/health`, { key }), 404, "not_found");
    }
    expect(origin.calls.map((c) => c.url)).toEqual(Array(4).fill(`${ORIGIN}/v1/keys?limit=1`));
    // A name that merely starts or ends like it is another host: Hookgate's own.
    for (const host of ["api.acme.test.evil", "xapi.acme.test"]) {
      expect((await callUrl("GET", `https://${host}/v1/keys?limit=1`, { key })).body.data, host).toHaveLength(1);
    }
    expect(origin.calls).toHaveLength(4);
  });

  it("a configured host is stored lowercase without its trailing dot, and matches either spelling", async () => {
    const put = await putGateway({ hosts: ["Api.Acme.Test.", "api.acme.test"], routes: [{ path: "/v1/*" }] });
    expect(put.status, put.text).toBe(200);
    expect(put.body.hosts).toEqual(["api.acme.test"]);
    const { key } = await newTenant();
    const origin = stubOrigin(() => new Response("origin"));
    expect((await callUrl("GET", "https://api.acme.test/v1/keys", { key })).text).toBe("origin");
    expect((await callUrl("GET", "https://api.acme.test./v1/keys", { key })).text).toBe("origin");
    expect(origin.calls).toHaveLength(2);
  });

  it("a path outside Hookgate's that matches no route is a plain 404", async () => {
    await putGateway({ routes: [{ path: "/tests/*" }] });
    stubOrigin();
    expectProblem(await call("GET", "/nothing-here"), 404, "not_found");
  });
});
