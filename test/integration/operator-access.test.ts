import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callWithEnv, expectProblem, newKey, newTenant, unique } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

/**
 * A Cloudflare Access team of the test's own: an RSA key pair made here, its
 * public half served as the team's certs by a faked fetch (counted), and a
 * team domain no other test uses, so the isolate's cached key sets never mix.
 */
async function accessTeam(opts: { domain?: string; insecure?: boolean } = {}) {
  const teamDomain = opts.domain ?? `https://${unique("team").toLowerCase()}.cloudflareaccess.com`;
  const kid = unique("kid");
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const certsUrl = `${teamDomain}/cdn-cgi/access/certs`;
  let certFetches = 0;
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url === certsUrl) {
      certFetches++;
      return Response.json({ keys: [jwk], public_cert: { kid }, public_certs: [] });
    }
    return realFetch(input, init);
  });
  const env = { ACCESS_TEAM_DOMAIN: teamDomain, ACCESS_AUD: AUD, ...(opts.insecure && { ALLOW_INSECURE_URLS: "true" }) };
  const sign = (claims: Record<string, unknown> = {}, o: { key?: CryptoKey; kid?: string; aud?: string; exp?: number | string } = {}) =>
    new SignJWT({ email: "alice@acme.example", type: "app", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: o.kid ?? kid })
      .setIssuer(teamDomain)
      .setAudience(o.aud ?? AUD)
      .setIssuedAt()
      .setExpirationTime(o.exp ?? "5m")
      .sign(o.key ?? privateKey);
  const as = (assertion: string, method: string, path: string, body?: unknown) =>
    callWithEnv(env, method, path, { headers: { "cf-access-jwt-assertion": assertion }, ...(body !== undefined && { body }) });
  return { env, sign, as, certFetches: () => certFetches };
}

describe("Cloudflare Access in front of /admin", () => {
  it("accepts a valid assertion, fetches the certs once, and audits the change as operator:<email>", async () => {
    const team = await accessTeam();
    const assertion = await team.sign();
    const list = await team.as(assertion, "GET", "/admin/tenants?limit=1");
    expect(list.status, list.text).toBe(200);
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read"] });
    const revoked = await team.as(assertion, "DELETE", `/admin/tenants/${t.tenant.id}/keys/${k.id}`);
    expect(revoked.status, revoked.text).toBe(204);
    expect(team.certFetches()).toBe(1);

    const requestId = revoked.headers.get("x-request-id");
    const tenantLog = await call("GET", "/v1/audit-log?action=key.revoked", { key: t.key });
    const entry = tenantLog.body.data.find((e: { requestId: string }) => e.requestId === requestId);
    expect(entry).toMatchObject({ actor: "operator:alice@acme.example", target: k.id });
    const operatorLog = await call("GET", "/admin/audit-log?action=key.revoked&limit=100", { admin: true });
    expect(operatorLog.body.data.find((e: { requestId: string }) => e.requestId === requestId)).toMatchObject({
      actor: "operator:alice@acme.example",
      details: { tenantId: t.tenant.id },
    });
    expect(JSON.stringify(operatorLog.body)).not.toContain(assertion);
  });

  it.each([
    ["a wrong aud", (team: Awaited<ReturnType<typeof accessTeam>>) => team.sign({}, { aud: "another-application" })],
    ["an expired assertion", (team: Awaited<ReturnType<typeof accessTeam>>) => team.sign({}, { exp: Math.floor(Date.now() / 1000) - 120 })],
    [
      "a bad signature",
      async (team: Awaited<ReturnType<typeof accessTeam>>) => {
        const other = await generateKeyPair("RS256");
        return team.sign({}, { key: other.privateKey });
      },
    ],
    [
      "an unknown kid",
      async (team: Awaited<ReturnType<typeof accessTeam>>) => {
        const other = await generateKeyPair("RS256");
        return team.sign({}, { key: other.privateKey, kid: "not-a-team-key" });
      },
    ],
    ["a token that is not a JWT", async () => "not.a.jwt"],
    ["no identity", (team: Awaited<ReturnType<typeof accessTeam>>) => team.sign({ email: undefined })],
  ])("refuses %s with 401 like a bad token, and changes nothing", async (_label, make) => {
    const team = await accessTeam();
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read"] });
    const assertion = await make(team);
    const res = await team.as(assertion, "DELETE", `/admin/tenants/${t.tenant.id}/keys/${k.id}`);
    expectProblem(res, 401, "invalid_credential");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect(res.text).not.toContain(assertion);
    expect((await call("GET", "/v1/scopes", { key: k.key })).status).toBe(200);
  });

  it("is not accepted where Access is not configured, and the operator token still works where it is", async () => {
    const team = await accessTeam();
    const assertion = await team.sign();
    expectProblem(await call("GET", "/admin/tenants?limit=1", { headers: { "cf-access-jwt-assertion": assertion } }), 401, "unauthorized");
    const withToken = await callWithEnv(team.env, "GET", "/admin/tenants?limit=1", { admin: true });
    expect(withToken.status, withToken.text).toBe(200);
    const badToken = await callWithEnv(team.env, "GET", "/admin/tenants?limit=1", {
      headers: { authorization: "Bearer wrong-token-wrong-token", "cf-access-jwt-assertion": assertion },
    });
    expectProblem(badToken, 401, "invalid_credential");
  });

  it("signs in to the operator console as operator:<email>; what the session does is audited as that member of staff", async () => {
    const team = await accessTeam();
    const started = await team.as(await team.sign(), "POST", "/admin/dashboard-sessions");
    expect(started.status, started.text).toBe(201);
    expect(started.body).toMatchObject({ kind: "operator", actor: "operator:alice@acme.example" });
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read"] });
    const revoked = await callWithEnv(team.env, "DELETE", `/admin/tenants/${t.tenant.id}/keys/${k.id}`, { key: started.body.token });
    expect(revoked.status, revoked.text).toBe(204);
    const log = await call("GET", "/v1/audit-log?action=key.revoked", { key: t.key });
    const entry = log.body.data.find((e: { requestId: string }) => e.requestId === revoked.headers.get("x-request-id"));
    expect(entry?.actor).toBe("operator:alice@acme.example");
    // An expired assertion starts nothing.
    const expired = await team.as(await team.sign({}, { exp: Math.floor(Date.now() / 1000) - 60 }), "POST", "/admin/dashboard-sessions");
    expectProblem(expired, 401, "invalid_credential");
  });

  it("the console page tells the browser Access is in front only when the request carried an assertion", async () => {
    const behind = await call("GET", "/dashboard", { headers: { "cf-access-jwt-assertion": "eyJ.any.thing" } });
    expect(behind.status).toBe(200);
    expect(behind.text).toContain('data-behind-access="1"');
    // The assertion is only a hint: it is verified when the page asks for a session, never echoed.
    expect(behind.text).not.toContain("eyJ.any.thing");
    expect((await call("GET", "/dashboard")).text).toContain('data-behind-access=""');
  });

  it("takes an http://127.0.0.1 team domain only where ALLOW_INSECURE_URLS=true; refuses other settings", async () => {
    const local = await accessTeam({ domain: "http://127.0.0.1:8787", insecure: true });
    expect((await local.as(await local.sign(), "GET", "/admin/tenants?limit=1")).status).toBe(200);
    const bad = [
      { ACCESS_TEAM_DOMAIN: "http://127.0.0.1:8788", ACCESS_AUD: AUD },
      { ACCESS_TEAM_DOMAIN: "https://acme.cloudflareaccess.com/path", ACCESS_AUD: AUD },
      { ACCESS_TEAM_DOMAIN: "https://acme.cloudflareaccess.com", ACCESS_AUD: "" },
      { ACCESS_TEAM_DOMAIN: "", ACCESS_AUD: AUD },
    ];
    for (const env of bad) expectProblem(await callWithEnv(env, "GET", "/admin/tenants?limit=1", { admin: true }), 503, "misconfigured");
  });
});
