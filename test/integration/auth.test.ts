import { describe, expect, it } from "vitest";
import { checksum, generateApiKey } from "../../src/auth/key-format";
import {
  ADMIN_TOKEN,
  type CallOptions,
  call,
  eventually,
  expectProblem,
  fieldError,
  newKey,
  newTenant,
  type Result,
  sleep,
} from "./helpers";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `key` with the character at `i` (negative: from the end) replaced by another base62 character. */
function typo(key: string, i: number): string {
  const at = i < 0 ? key.length + i : i;
  const ch = key[at]!;
  const other = BASE62[(BASE62.indexOf(ch) + 1) % 62]!;
  return key.slice(0, at) + other + key.slice(at + 1);
}

function expect401(res: Result, code: string) {
  expectProblem(res, 401, code);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
}

describe("missing credential", () => {
  it.each([
    ["GET", "/v1/keys"],
    ["POST", "/v1/keys"],
    ["GET", "/v1/keys/key_00000000000000000000"],
    ["PATCH", "/v1/keys/key_00000000000000000000"],
    ["DELETE", "/v1/keys/key_00000000000000000000"],
    ["POST", "/v1/keys/key_00000000000000000000/rotate"],
    ["GET", "/v1/audit-log"],
  ])("%s %s → 401 unauthorized + WWW-Authenticate: Bearer", async (method, path) => {
    const res = await call(method, path, method === "POST" || method === "PATCH" ? { body: { name: "x", scopes: ["keys:read"] } } : {});
    expect401(res, "unauthorized");
    expect(res.body.title).toBe("Unauthorized");
  });
});

describe("presenting a key", () => {
  it("works as Authorization: Bearer and as X-Api-Key", async () => {
    const { key } = await newTenant();
    expect((await call("GET", "/v1/keys", { key })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key, apiKeyHeader: true })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { headers: { authorization: `bearer ${key}` } })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { headers: { "X-API-KEY": key } })).status).toBe(200);
  });

  it.each([
    ["garbage", "not-a-key"],
    ["an empty key", ""],
    ["a JSON web token lookalike", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"],
    ["the admin token", ADMIN_TOKEN],
  ])("a malformed key (%s) → 401 invalid_credential", async (_label, bad) => {
    expect401(await call("GET", "/v1/keys", { headers: { authorization: `Bearer ${bad}` } }), "invalid_credential");
    if (bad) expect401(await call("GET", "/v1/keys", { key: bad, apiKeyHeader: true }), "invalid_credential");
  });

  it("a non-Bearer Authorization scheme is refused", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/v1/keys", { headers: { authorization: `Basic ${btoa(`${key}:`)}` } });
    expect(res.status).toBe(401);
    expect(["unauthorized", "invalid_credential"]).toContain(res.body.code);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
  });

  it("a wrong prefix or environment → 401 invalid_credential", async () => {
    const { key } = await newTenant();
    expect401(await call("GET", "/v1/keys", { key: key.replace(/^hg_/, "xx_") }), "invalid_credential");
    expect401(await call("GET", "/v1/keys", { key: key.replace("_live_", "_test_") }), "invalid_credential");
    expect401(await call("GET", "/v1/keys", { key: `sk_${key}` }), "invalid_credential");
  });

  it("a truncated or extended key → 401 invalid_credential", async () => {
    const { key } = await newTenant();
    expect401(await call("GET", "/v1/keys", { key: key.slice(0, -1) }), "invalid_credential");
    expect401(await call("GET", "/v1/keys", { key: `${key}A` }), "invalid_credential");
  });

  it.each([
    ["first secret character", -38],
    ["a middle secret character", -20],
    ["last secret character", -7],
    ["first checksum character", -6],
    ["last checksum character", -1],
  ])("a one-character typo in the %s → 401 invalid_credential", async (_label, i) => {
    const { key } = await newTenant();
    const bad = typo(key, i);
    expect(bad).not.toBe(key);
    expect401(await call("GET", "/v1/keys", { key: bad }), "invalid_credential");
    expect((await call("GET", "/v1/keys", { key })).status).toBe(200);
  });

  it("a well-formed key with a valid checksum that does not exist → 401 invalid_credential", async () => {
    const { tenant } = await newTenant();
    const fake = generateApiKey("hg", tenant.id);
    expect(fake).toMatch(/^hg_live_/);
    expect401(await call("GET", "/v1/keys", { key: fake }), "invalid_credential");
    const unknownTenant = generateApiKey("hg", "ten_00000000000000000000");
    expect401(await call("GET", "/v1/keys", { key: unknownTenant }), "invalid_credential");
  });

  it("a real key whose tenant part is swapped → 401 invalid_credential", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const swapped = a.key.replace(a.tenant.id.slice(4), b.tenant.id.slice(4));
    expect(swapped).not.toBe(a.key);
    expect(swapped.split("_")[3]).toBe(a.key.split("_")[3]);
    expect401(await call("GET", "/v1/keys", { key: swapped }), "invalid_credential");
    const invented = a.key.replace(a.tenant.id.slice(4), "ZZZZZZZZZZZZZZZZZZZZ");
    expect401(await call("GET", "/v1/keys", { key: invented }), "invalid_credential");
    // Both real keys still work.
    expect((await call("GET", "/v1/keys", { key: a.key })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: b.key })).status).toBe(200);
  });

  it("a key with the right checksum over a made-up secret → 401 invalid_credential", async () => {
    const { tenant } = await newTenant();
    const secret = "A".repeat(32);
    expect401(await call("GET", "/v1/keys", { key: `hg_live_${tenant.id.slice(4)}_${secret}${checksum(secret)}` }), "invalid_credential");
  });
});

describe("expiry", () => {
  it("a key created to expire shortly works, then → 401 credential_expired", async () => {
    const { key: admin } = await newTenant();
    const expiresAt = new Date(Date.now() + 2000);
    const k = await newKey(admin, { scopes: ["keys:read"], expiresAt: expiresAt.toISOString() });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 300);
    const res = await call("GET", "/v1/keys", { key: k.key });
    expect401(res, "credential_expired");
    expect((await call("GET", "/v1/keys", { key: admin })).status).toBe(200);
  });

  it("PATCH expiresAt to the near future makes the key expire then", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    const expiresAt = new Date(Date.now() + 1500);
    const patch = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { expiresAt: expiresAt.toISOString() } });
    expect(patch.status, patch.text).toBe(200);
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 300);
    expect401(await call("GET", "/v1/keys", { key: k.key }), "credential_expired");
  });

  it("PATCH expiresAt: null before the time keeps the key alive", async () => {
    const { key: admin } = await newTenant();
    const expiresAt = new Date(Date.now() + 1500);
    const k = await newKey(admin, { scopes: ["keys:read"], expiresAt: expiresAt.toISOString() });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    const patch = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { expiresAt: null } });
    expect(patch.status, patch.text).toBe(200);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 300);
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
  });
});

describe("scopes", () => {
  type Case = { label: string; method: string; scope: string; run: (key: string, ctx: Ctx) => Promise<Result>; ok: number };
  type Ctx = { admin: string; targetId: string };
  const everything = [
    "keys:read",
    "keys:write",
    "webhooks:read",
    "webhooks:write",
    "events:read",
    "events:write",
    "sources:read",
    "sources:write",
    "audit:read",
  ];

  const cases: Case[] = [
    { label: "GET /v1/keys", method: "GET", scope: "keys:read", ok: 200, run: (key) => call("GET", "/v1/keys", { key }) },
    {
      label: "GET /v1/keys/:id",
      method: "GET",
      scope: "keys:read",
      ok: 200,
      run: (key, c) => call("GET", `/v1/keys/${c.targetId}`, { key }),
    },
    {
      label: "POST /v1/keys",
      method: "POST",
      scope: "keys:write",
      ok: 201,
      run: (key) => call("POST", "/v1/keys", { key, body: { name: "minted", scopes: ["keys:write"] } }),
    },
    {
      label: "PATCH /v1/keys/:id",
      method: "PATCH",
      scope: "keys:write",
      ok: 200,
      run: (key, c) => call("PATCH", `/v1/keys/${c.targetId}`, { key, body: { name: "patched" } }),
    },
    {
      label: "DELETE /v1/keys/:id",
      method: "DELETE",
      scope: "keys:write",
      ok: 204,
      run: (key, c) => call("DELETE", `/v1/keys/${c.targetId}`, { key }),
    },
    {
      label: "POST /v1/keys/:id/rotate",
      method: "POST",
      scope: "keys:write",
      ok: 201,
      run: (key, c) => call("POST", `/v1/keys/${c.targetId}/rotate`, { key, body: { graceSeconds: 0 } }),
    },
    { label: "GET /v1/audit-log", method: "GET", scope: "audit:read", ok: 200, run: (key) => call("GET", "/v1/audit-log", { key }) },
  ];

  it.each(cases.map((c) => [c.label, c] as const))("%s without its scope → 403 insufficient_scope naming it", async (_l, c) => {
    const { key: admin } = await newTenant();
    const target = await newKey(admin, { scopes: ["keys:write"] });
    // Everything else, including the wildcard of the other kind.
    const others = [...everything.filter((s) => s !== c.scope), c.scope.endsWith(":read") ? "api:write" : "api:read"];
    const lacking = await newKey(admin, { scopes: others });
    const res = await c.run(lacking.key, { admin, targetId: target.id });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe(c.scope);
    expect(res.body.detail).toContain(c.scope);
    // Nothing happened to the target.
    const got = await call("GET", `/v1/keys/${target.id}`, { key: admin });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: target.body.name, revokedAt: null });
    expect((await call("GET", "/v1/keys", { key: admin })).body.data).toHaveLength(3);
  });

  it.each(cases.map((c) => [c.label, c] as const))("%s with exactly its scope succeeds", async (_l, c) => {
    const { key: admin } = await newTenant();
    const target = await newKey(admin, { scopes: ["keys:write"] });
    const holder = await newKey(admin, { scopes: [c.scope] });
    const res = await c.run(holder.key, { admin, targetId: target.id });
    expect(res.status, res.text).toBe(c.ok);
  });

  it.each(cases.map((c) => [c.label, c] as const))("%s with the matching wildcard succeeds", async (_l, c) => {
    const { key: admin } = await newTenant();
    const target = await newKey(admin, { scopes: ["keys:write"] });
    const holder = await newKey(admin, { scopes: [c.scope.endsWith(":read") ? "api:read" : "api:write"] });
    const res = await c.run(holder.key, { admin, targetId: target.id });
    expect(res.status, res.text).toBe(c.ok);
  });

  it("keys:write does not imply keys:read", async () => {
    const { key: admin } = await newTenant();
    const w = await newKey(admin, { scopes: ["keys:write"] });
    const res = await call("GET", "/v1/keys", { key: w.key });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe("keys:read");
  });

  it("the scope check comes before the lookup: an unknown id without the scope → 403", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["audit:read"] });
    const res = await call("GET", "/v1/keys/key_00000000000000000000", { key: k.key });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe("keys:read");
  });
});

describe("IP allowlist", () => {
  const get = (key: string, opts: CallOptions = {}) => call("GET", "/v1/keys", { key, ...opts });

  it("IPv4: 203.0.113.0/24 admits 203.0.113.7 and refuses others and a missing address", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], ipAllowlist: ["203.0.113.0/24"] });
    expect((await get(k.key, { ip: "203.0.113.7" })).status).toBe(200);
    expect((await get(k.key, { ip: "203.0.113.255" })).status).toBe(200);
    expect((await get(k.key, { ip: "::ffff:203.0.113.7" })).status).toBe(200);
    for (const ip of ["198.51.100.1", "203.0.114.1", "203.0.112.255", "2001:db8::1"]) {
      const res = await get(k.key, { ip });
      expectProblem(res, 403, "ip_not_allowed");
      expect(res.body.detail).toContain(ip);
    }
    expectProblem(await get(k.key), 403, "ip_not_allowed");
    expectProblem(await get(k.key, { headers: { "cf-connecting-ip": "not-an-ip" } }), 403, "ip_not_allowed");
    // X-Forwarded-For is not trusted.
    expectProblem(await get(k.key, { ip: "198.51.100.1", headers: { "x-forwarded-for": "203.0.113.7" } }), 403, "ip_not_allowed");
  });

  it("IPv6: 2001:db8::/32 admits addresses inside only", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], ipAllowlist: ["2001:db8::/32"] });
    for (const ip of ["2001:db8::1", "2001:db8:ffff:1::9", "2001:0db8:0000:0000:0000:0000:0000:0001"]) {
      expect((await get(k.key, { ip })).status, ip).toBe(200);
    }
    for (const ip of ["2001:db9::1", "2001:db7:ffff::1", "::1", "203.0.113.7"]) {
      expectProblem(await get(k.key, { ip }), 403, "ip_not_allowed");
    }
    expectProblem(await get(k.key), 403, "ip_not_allowed");
  });

  it("a mixed list admits either family; a bare address is exact", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], ipAllowlist: ["192.0.2.10", "2001:db8:1::/48"] });
    expect((await get(k.key, { ip: "192.0.2.10" })).status).toBe(200);
    expect((await get(k.key, { ip: "2001:db8:1:2::3" })).status).toBe(200);
    expectProblem(await get(k.key, { ip: "192.0.2.11" }), 403, "ip_not_allowed");
    expectProblem(await get(k.key, { ip: "2001:db8:2::3" }), 403, "ip_not_allowed");
  });

  it("a key without an allowlist works from anywhere, and without CF-Connecting-IP", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await get(k.key)).status).toBe(200);
    expect((await get(k.key, { ip: "198.51.100.1" })).status).toBe(200);
    expect((await get(k.key, { ip: "2001:db8::1" })).status).toBe(200);
  });

  it("an allowlist change applies from the next request", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], ipAllowlist: ["203.0.113.0/24"] });
    expect((await get(k.key, { ip: "203.0.113.7" })).status).toBe(200);
    const patched = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { ipAllowlist: ["198.51.100.0/24"] } });
    expect(patched.status, patched.text).toBe(200);
    expectProblem(await get(k.key, { ip: "203.0.113.7" }), 403, "ip_not_allowed");
    expect((await get(k.key, { ip: "198.51.100.1" })).status).toBe(200);
    await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { ipAllowlist: null } });
    expect((await get(k.key, { ip: "203.0.113.7" })).status).toBe(200);
    expect((await get(k.key)).status).toBe(200);
  });

  it("adding an allowlist to an unrestricted key applies from the next request", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await get(k.key, { ip: "198.51.100.1" })).status).toBe(200);
    await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { ipAllowlist: ["203.0.113.0/24"] } });
    expectProblem(await get(k.key, { ip: "198.51.100.1" }), 403, "ip_not_allowed");
  });

  it("an allowlist refusal also applies to writes", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read", "keys:write"], ipAllowlist: ["203.0.113.0/24"] });
    const res = await call("POST", "/v1/keys", { key: k.key, ip: "198.51.100.1", body: { name: "x", scopes: ["keys:read"] } });
    expectProblem(res, 403, "ip_not_allowed");
    expect((await call("GET", "/v1/keys", { key: admin })).body.data).toHaveLength(2);
  });

  it.each([["203.0.113.0/33"], ["203.0.113"], ["2001:db8::/129"], ["2001:db8:::/32"], ["localhost"], ["*"]])(
    "an invalid CIDR %j on create → 422",
    async (cidr) => {
      const { key: admin } = await newTenant();
      const res = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"], ipAllowlist: [cidr] } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "ipAllowlist.0");
    },
  );

  it("more than 100 ranges → 422", async () => {
    const { key: admin } = await newTenant();
    const ipAllowlist = Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`);
    const res = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"], ipAllowlist } });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, "ipAllowlist");
  });
});

describe("revocation and tenant state reach authentication promptly", () => {
  it("a deleted key is refused on the very next request even after recent successful use", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: admin })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 401, "credential_revoked");
  });

  it("re-enabling API access lets keys back in", async () => {
    const { tenant, key } = await newTenant();
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: false } });
    expectProblem(await call("GET", "/v1/keys", { key }), 403, "api_access_disabled");
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { apiAccess: true } });
    const res = await eventually(
      async () => {
        const r = await call("GET", "/v1/keys", { key });
        return r.status === 200 ? r : undefined;
      },
      30,
      500,
    );
    expect(res.status).toBe(200);
  });
});
