import { describe, expect, it } from "vitest";
import {
  allPages,
  call,
  eventually,
  expectProblem,
  flushCredentialUsage,
  fieldError,
  newKey,
  newTenant,
  sha256Hex,
  sleep,
  unique,
  type Result,
} from "./helpers";

const KEY_ID = /^key_[0-9A-Za-z]{20}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PUBLIC_FIELDS = ["id", "name", "start", "last4", "scopes", "ipAllowlist", "rateLimits", "createdAt", "expiresAt", "lastUsedAt", "revokedAt"];
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

/** Asserts a response shows a key's public fields and nothing secret. */
async function expectNoSecret(res: Result, secrets: string[]) {
  for (const secret of secrets) {
    expect(res.text).not.toContain(secret);
    expect(res.text).not.toContain(secret.slice(-38));
    expect(res.text).not.toContain(await sha256Hex(secret));
  }
  expect(res.text).not.toMatch(/"(key|hash|secret)"\s*:/);
}

describe("POST /v1/keys", () => {
  it("creates a key: all public fields, the secret once, and the secret works", async () => {
    const { tenant, key: admin } = await newTenant();
    const before = Date.now();
    const name = unique("ci");
    const res = await call("POST", "/v1/keys", { key: admin, body: { name, scopes: ["keys:read", "audit:read"] } });
    expect(res.status, res.text).toBe(201);
    const k = res.body;
    expect(Object.keys(k).sort()).toEqual([...PUBLIC_FIELDS, "key"].sort());
    expect(k.id).toMatch(KEY_ID);
    expect(k.name).toBe(name);
    expect(k.key).toMatch(new RegExp(`^hg_live_${tenant.id.slice(4)}_[0-9A-Za-z]{38}$`));
    expect(k.start).toBe(k.key.slice(0, 12));
    expect(k.start).toHaveLength(12);
    expect(k.last4).toBe(k.key.slice(-4));
    expect(k.scopes.sort()).toEqual(["audit:read", "keys:read"]);
    expect(k.ipAllowlist).toEqual([]);
    expect(k.rateLimits).toBeNull();
    expect(k.expiresAt).toBeNull();
    expect(k.lastUsedAt).toBeNull();
    expect(k.revokedAt).toBeNull();
    expect(k.createdAt).toMatch(ISO);
    expect(Date.parse(k.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(k.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);

    const own = await call("GET", `/v1/keys/${k.id}`, { key: k.key });
    expect(own.status, own.text).toBe(200);
    expect(own.body.id).toBe(k.id);
  });

  it("echoes expiresAt, ipAllowlist and rateLimits", async () => {
    const { key: admin } = await newTenant();
    const expiresAt = new Date(Date.now() + 86_400_000);
    const rateLimits = { read: { limit: 100, windowSeconds: 60 }, write: { limit: 5, windowSeconds: 10 } };
    const res = await call("POST", "/v1/keys", {
      key: admin,
      body: { name: "full", scopes: ["keys:read"], expiresAt: expiresAt.toISOString(), ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"], rateLimits },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.expiresAt).toBe(expiresAt.toISOString());
    expect(res.body.ipAllowlist).toEqual(["203.0.113.0/24", "2001:db8::/32"]);
    expect(res.body.rateLimits).toEqual(rateLimits);
    const got = await call("GET", `/v1/keys/${res.body.id}`, { key: admin });
    const { key: _secret, ...pub } = res.body;
    expect(got.body).toEqual(pub);
  });

  it("accepts an offset expiresAt and stores it in UTC", async () => {
    const { key: admin } = await newTenant();
    const res = await call("POST", "/v1/keys", { key: admin, body: { name: "tz", scopes: ["keys:read"], expiresAt: "2099-06-01T12:00:00+02:00" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.expiresAt).toBe("2099-06-01T10:00:00.000Z");
  });

  it("removes duplicate scopes", async () => {
    const { key: admin } = await newTenant();
    const res = await call("POST", "/v1/keys", { key: admin, body: { name: "dups", scopes: ["keys:read", "keys:read"] } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.scopes).toEqual(["keys:read"]);
  });

  it("every key is different", async () => {
    const { key: admin } = await newTenant();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    const b = await newKey(admin, { scopes: ["keys:read"] });
    expect(a.key).not.toBe(b.key);
    expect(a.id).not.toBe(b.id);
  });

  it.each([
    ["in the past", new Date(Date.now() - 60_000).toISOString()],
    ["now-ish (1 s ago)", new Date(Date.now() - 1000).toISOString()],
    ["not a date", "soon"],
    ["a date without time", "2099-01-01"],
  ])("expiresAt %s → 422 naming expiresAt", async (_label, expiresAt) => {
    const { key: admin } = await newTenant();
    const res = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"], expiresAt } });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, "expiresAt");
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.body.data).toHaveLength(1);
  });

  it("an invalid CIDR → 422 naming the entry", async () => {
    const { key: admin } = await newTenant();
    for (const bad of ["203.0.113.0/33", "not-an-ip", "01.2.3.4/8", "2001:db8::/129", ""]) {
      const res = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"], ipAllowlist: ["10.0.0.0/8", bad] } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "ipAllowlist.1").message).toMatch(/CIDR|IPv4|IPv6/);
    }
  });
});

describe("GET /v1/keys and /v1/keys/:id", () => {
  it("never show the secret or its hash", async () => {
    const { key: admin, keyId } = await newTenant();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    const b = await newKey(admin, { scopes: ["keys:write"], ipAllowlist: ["10.0.0.0/8"] });
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.status).toBe(200);
    await expectNoSecret(list, [admin, a.key, b.key]);
    expect(list.body.data.map((k: { id: string }) => k.id).sort()).toEqual([keyId, a.id, b.id].sort());
    for (const item of list.body.data) expect(Object.keys(item).sort()).toEqual([...PUBLIC_FIELDS].sort());
    for (const id of [keyId, a.id, b.id]) {
      const got = await call("GET", `/v1/keys/${id}`, { key: admin });
      expect(got.status).toBe(200);
      expect(Object.keys(got.body).sort()).toEqual([...PUBLIC_FIELDS].sort());
      await expectNoSecret(got, [admin, a.key, b.key]);
    }
  });

  it("get returns what create returned, minus the secret", async () => {
    const { key: admin } = await newTenant();
    const created = await newKey(admin, { scopes: ["webhooks:read"] });
    const got = await call("GET", `/v1/keys/${created.id}`, { key: admin });
    const { key: _secret, ...pub } = created.body;
    expect(got.body).toEqual({ ...pub, lastUsedAt: got.body.lastUsedAt });
  });

  it("pages oldest first with limit and nextCursor, no repeats", async () => {
    const { key: admin, keyId } = await newTenant();
    const ids = [keyId];
    for (let i = 0; i < 4; i++) ids.push((await newKey(admin, { scopes: ["keys:read"] })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Result = await call("GET", `/v1/keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { key: admin });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    const one = await call("GET", "/v1/keys?limit=5", { key: admin });
    expect(one.body.nextCursor).toBeNull();
    expect(one.body.data).toHaveLength(5);
  });

  it("an unknown id → 404; an over-long id → 400", async () => {
    const { key: admin } = await newTenant();
    expectProblem(await call("GET", "/v1/keys/key_00000000000000000000", { key: admin }), 404, "not_found");
    expectProblem(await call("GET", "/v1/keys/nonsense", { key: admin }), 404, "not_found");
    expectProblem(await call("GET", `/v1/keys/key_${"x".repeat(100)}`, { key: admin }), 400, "invalid_query");
  });
});

describe("PATCH /v1/keys/:id", () => {
  it("changes name, expiresAt and ipAllowlist, and null clears them", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    const expiresAt = inAnHour();
    const name = unique("renamed");
    const res = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { name, expiresAt, ipAllowlist: ["198.51.100.0/24"] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: k.id, name, expiresAt: new Date(expiresAt).toISOString(), ipAllowlist: ["198.51.100.0/24"] });
    expect(res.body.scopes).toEqual(["keys:read"]);
    expect(Object.keys(res.body).sort()).toEqual([...PUBLIC_FIELDS].sort());
    await expectNoSecret(res, [k.key]);
    const got = await call("GET", `/v1/keys/${k.id}`, { key: admin });
    expect(got.body).toMatchObject({ name, expiresAt: new Date(expiresAt).toISOString(), ipAllowlist: ["198.51.100.0/24"] });

    const cleared = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { expiresAt: null, ipAllowlist: null } });
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body).toMatchObject({ name, expiresAt: null, ipAllowlist: [] });
    const again = await call("GET", `/v1/keys/${k.id}`, { key: admin });
    expect(again.body).toMatchObject({ name, expiresAt: null, ipAllowlist: [] });
  });

  it("an empty patch changes nothing", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"], ipAllowlist: ["10.0.0.0/8"] });
    const res = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: {} });
    expect(res.status, res.text).toBe(200);
    const { key: _s, ...pub } = k.body;
    expect(res.body).toEqual({ ...pub, lastUsedAt: res.body.lastUsedAt });
  });

  it("scopes cannot be changed: 422 naming the rule, key unchanged", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    for (const scopes of [["keys:read", "keys:write"], ["keys:read"], []]) {
      const res = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { name: "changed", scopes } });
      expectProblem(res, 422, "validation_failed");
      const err = fieldError(res, "scopes");
      expect(err.message).toMatch(/cannot be changed/);
      expect(res.body.detail).toMatch(/scopes/);
    }
    const got = await call("GET", `/v1/keys/${k.id}`, { key: admin });
    expect(got.body.scopes).toEqual(["keys:read"]);
    expect(got.body.name).toBe(k.body.name);
  });

  it.each([
    ["expiresAt in the past", { expiresAt: new Date(Date.now() - 60_000).toISOString() }, "expiresAt"],
    ["a non-date expiresAt", { expiresAt: "never" }, "expiresAt"],
    ["an empty name", { name: "" }, "name"],
    ["a null name", { name: null }, "name"],
    ["an invalid CIDR", { ipAllowlist: ["1.2.3.4/40"] }, "ipAllowlist.0"],
    ["an unknown field", { rateLimits: { read: { limit: 1, windowSeconds: 1 } } }, ""],
  ])("%s → 422", async (_label, body, path) => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    const res = await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body });
    expectProblem(res, 422, "validation_failed");
    fieldError(res, path);
    const got = await call("GET", `/v1/keys/${k.id}`, { key: admin });
    expect(got.body.expiresAt).toBeNull();
    expect(got.body.name).toBe(k.body.name);
  });

  it("an unknown id → 404", async () => {
    const { key: admin } = await newTenant();
    expectProblem(await call("PATCH", "/v1/keys/key_00000000000000000000", { key: admin, body: { name: "x" } }), 404, "not_found");
  });
});

describe("DELETE /v1/keys/:id", () => {
  it("→ 204, and the very next request with that key → 401 credential_revoked", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    const del = await call("DELETE", `/v1/keys/${k.id}`, { key: admin });
    expect(del.status, del.text).toBe(204);
    expect(del.text).toBe("");
    const next = await call("GET", "/v1/keys", { key: k.key });
    expectProblem(next, 401, "credential_revoked");
    expect(next.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expectProblem(await call("GET", "/v1/keys", { key: k.key, apiKeyHeader: true }), 401, "credential_revoked");
  });

  it("a revoked key is gone from list and get; deleting again → 404", async () => {
    const { key: admin, keyId } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: admin })).status).toBe(204);
    expectProblem(await call("GET", `/v1/keys/${k.id}`, { key: admin }), 404, "not_found");
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([keyId]);
    expectProblem(await call("DELETE", `/v1/keys/${k.id}`, { key: admin }), 404, "not_found");
    expectProblem(await call("PATCH", `/v1/keys/${k.id}`, { key: admin, body: { name: "zombie" } }), 404, "not_found");
    expectProblem(await call("POST", `/v1/keys/${k.id}/rotate`, { key: admin, body: {} }), 404, "not_found");
  });

  it("a key can revoke itself and is refused from the next request", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: k.key })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 401, "credential_revoked");
    expect((await call("GET", "/v1/keys", { key: admin })).status).toBe(200);
  });

  it("revoking the tenant's first key leaves other keys working", async () => {
    const { key: admin, keyId } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    expect((await call("DELETE", `/v1/keys/${keyId}`, { key: k.key })).status).toBe(204);
    expectProblem(await call("GET", "/v1/keys", { key: admin }), 401, "credential_revoked");
    const list = await call("GET", "/v1/keys", { key: k.key });
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([k.id]);
  });
});

describe("POST /v1/keys/:id/rotate", () => {
  it("graceSeconds 0: the old key fails at once, the new one works", async () => {
    const { key: admin } = await newTenant();
    const old = await newKey(admin, { scopes: ["keys:read", "audit:read"] });
    expect((await call("GET", "/v1/keys", { key: old.key })).status).toBe(200);
    const res = await call("POST", `/v1/keys/${old.id}/rotate`, { key: admin, body: { graceSeconds: 0 } });
    expect(res.status, res.text).toBe(201);
    const fresh = res.body;
    expect(Object.keys(fresh).sort()).toEqual([...PUBLIC_FIELDS, "key"].sort());
    expect(fresh.id).toMatch(KEY_ID);
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.start).toBe(fresh.key.slice(0, 12));
    expect(fresh.last4).toBe(fresh.key.slice(-4));
    expect(fresh.name).toBe(old.body.name);
    expect(fresh.scopes.sort()).toEqual(["audit:read", "keys:read"]);
    expect(fresh.revokedAt).toBeNull();
    expectProblem(await call("GET", "/v1/keys", { key: old.key }), 401, "credential_revoked");
    expect((await call("GET", "/v1/keys", { key: fresh.key })).status).toBe(200);
    expectProblem(await call("GET", `/v1/keys/${old.id}`, { key: admin }), 404, "not_found");
  });

  it("default grace: both work; the new key copies name, scopes, allowlist and limits; rotating twice → 409", async () => {
    const { key: admin } = await newTenant();
    const rateLimits = { read: { limit: 500, windowSeconds: 60 } };
    const old = await newKey(admin, { scopes: ["keys:read", "webhooks:write"], ipAllowlist: ["203.0.113.0/24"], rateLimits });
    const before = Date.now();
    const res = await call("POST", `/v1/keys/${old.id}/rotate`, { key: admin });
    expect(res.status, res.text).toBe(201);
    const fresh = res.body;
    expect(fresh).toMatchObject({ name: old.body.name, ipAllowlist: ["203.0.113.0/24"], rateLimits, expiresAt: null, revokedAt: null });
    expect(fresh.scopes.sort()).toEqual(["keys:read", "webhooks:write"]);

    const ip = "203.0.113.9";
    expect((await call("GET", "/v1/keys", { key: old.key, ip })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: fresh.key, ip })).status).toBe(200);
    expectProblem(await call("GET", "/v1/keys", { key: fresh.key, ip: "198.51.100.1" }), 403, "ip_not_allowed");

    const oldNow = await call("GET", `/v1/keys/${old.id}`, { key: admin });
    expect(oldNow.status).toBe(200);
    const stopsAt = Date.parse(oldNow.body.revokedAt);
    expect(stopsAt).toBeGreaterThanOrEqual(before + 3600_000 - 5000);
    expect(stopsAt).toBeLessThanOrEqual(Date.now() + 3600_000 + 5000);

    const twice = await call("POST", `/v1/keys/${old.id}/rotate`, { key: admin, body: {} });
    expectProblem(twice, 409, "conflict");
    expect(twice.body.detail).toMatch(/already been rotated/);
    // The failed second rotation did not disturb either key.
    expect((await call("GET", "/v1/keys", { key: old.key, ip })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: fresh.key, ip })).status).toBe(200);
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.body.data).toHaveLength(3);
  });

  it("an explicit grace is honoured and an empty body means the default", async () => {
    const { key: admin } = await newTenant();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    const t0 = Date.now();
    const ra = await call("POST", `/v1/keys/${a.id}/rotate`, { key: admin, body: { graceSeconds: 120 } });
    expect(ra.status, ra.text).toBe(201);
    const ga = await call("GET", `/v1/keys/${a.id}`, { key: admin });
    expect(Math.abs(Date.parse(ga.body.revokedAt) - (t0 + 120_000))).toBeLessThan(5000);

    const b = await newKey(admin, { scopes: ["keys:read"] });
    const t1 = Date.now();
    const rb = await call("POST", `/v1/keys/${b.id}/rotate`, { key: admin, body: {} });
    expect(rb.status, rb.text).toBe(201);
    const gb = await call("GET", `/v1/keys/${b.id}`, { key: admin });
    expect(Math.abs(Date.parse(gb.body.revokedAt) - (t1 + 3600_000))).toBeLessThan(5000);
  });

  it("the old key stops working when a short grace ends", async () => {
    const { key: admin } = await newTenant();
    const old = await newKey(admin, { scopes: ["keys:read"] });
    const res = await call("POST", `/v1/keys/${old.id}/rotate`, { key: admin, body: { graceSeconds: 1 } });
    expect(res.status, res.text).toBe(201);
    expect((await call("GET", "/v1/keys", { key: old.key })).status).toBe(200);
    await sleep(1300);
    expectProblem(await call("GET", "/v1/keys", { key: old.key }), 401, "credential_revoked");
    expect((await call("GET", "/v1/keys", { key: res.body.key })).status).toBe(200);
  });

  it.each([
    ["negative", { graceSeconds: -1 }],
    ["over 7 days", { graceSeconds: 604_801 }],
    ["a string", { graceSeconds: "60" }],
    ["a fraction", { graceSeconds: 1.5 }],
    ["an unknown field", { grace: 10 }],
  ])("graceSeconds %s → 422 and nothing rotated", async (_label, body) => {
    const { key: admin } = await newTenant();
    const old = await newKey(admin, { scopes: ["keys:read"] });
    const res = await call("POST", `/v1/keys/${old.id}/rotate`, { key: admin, body });
    expectProblem(res, 422, "validation_failed");
    const got = await call("GET", `/v1/keys/${old.id}`, { key: admin });
    expect(got.body.revokedAt).toBeNull();
    expect((await call("GET", "/v1/keys", { key: admin })).body.data).toHaveLength(2);
  });

  it("a key may rotate itself", async () => {
    const { key: admin } = await newTenant();
    const self = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const res = await call("POST", `/v1/keys/${self.id}/rotate`, { key: self.key, body: { graceSeconds: 0 } });
    expect(res.status, res.text).toBe(201);
    expectProblem(await call("GET", "/v1/keys", { key: self.key }), 401, "credential_revoked");
    expect((await call("GET", "/v1/keys", { key: res.body.key })).status).toBe(200);
  });

  it("a key cannot rotate a key holding scopes it lacks → 403 scope_escalation, target untouched", async () => {
    const { key: admin, keyId } = await newTenant();
    const limited = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const res = await call("POST", `/v1/keys/${keyId}/rotate`, { key: limited.key, body: { graceSeconds: 0 } });
    expectProblem(res, 403, "scope_escalation");
    expect((await call("GET", "/v1/keys", { key: admin })).status).toBe(200);
    const got = await call("GET", `/v1/keys/${keyId}`, { key: admin });
    expect(got.body.revokedAt).toBeNull();
  });
});

describe("apiKeys quota", () => {
  it("the third key of a quota-2 tenant → 409 quota_exceeded; a revoked key frees a slot", async () => {
    const { key: admin } = await newTenant({ quotas: { apiKeys: 2 } });
    const second = await newKey(admin, { scopes: ["keys:read"] });
    const third = await call("POST", "/v1/keys", { key: admin, body: { name: "third", scopes: ["keys:read"] } });
    expectProblem(third, 409, "quota_exceeded");
    expect(third.body.detail).toMatch(/2/);
    expect((await call("GET", "/v1/keys", { key: admin })).body.data).toHaveLength(2);

    expect((await call("DELETE", `/v1/keys/${second.id}`, { key: admin })).status).toBe(204);
    const again = await call("POST", "/v1/keys", { key: admin, body: { name: "third", scopes: ["keys:read"] } });
    expect(again.status, again.text).toBe(201);
    expectProblem(await call("POST", "/v1/keys", { key: admin, body: { name: "fourth", scopes: ["keys:read"] } }), 409, "quota_exceeded");
  });

  it("rotating at quota works, and the key in its grace period does not hold a slot", async () => {
    const { key: admin } = await newTenant({ quotas: { apiKeys: 2 } });
    const second = await newKey(admin, { scopes: ["keys:read"] });
    const rotated = await call("POST", `/v1/keys/${second.id}/rotate`, { key: admin });
    expect(rotated.status, rotated.text).toBe(201);
    expect((await call("GET", "/v1/keys", { key: second.key })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: rotated.body.key })).status).toBe(200);
    // Live and counted: the first key and the new one.
    expectProblem(await call("POST", "/v1/keys", { key: admin, body: { name: "extra", scopes: ["keys:read"] } }), 409, "quota_exceeded");
    const rotatedAgain = await call("POST", `/v1/keys/${rotated.body.id}/rotate`, { key: admin, body: { graceSeconds: 0 } });
    expect(rotatedAgain.status, rotatedAgain.text).toBe(201);
  });

  it("raising the quota through the operator API lets more keys in", async () => {
    const { tenant, key: admin } = await newTenant({ quotas: { apiKeys: 1 } });
    expectProblem(await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"] } }), 409, "quota_exceeded");
    await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { quotas: { apiKeys: 2 } } });
    const res = await eventually(async () => {
      const r = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"] } });
      return r.status === 201 ? r : undefined;
    }, 30, 500);
    expect(res.status).toBe(201);
  });
});

describe("scope escalation", () => {
  it("a keys:read+keys:write key cannot mint webhooks:read → 403 scope_escalation", async () => {
    const { key: admin } = await newTenant();
    const limited = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const res = await call("POST", "/v1/keys", { key: limited.key, body: { name: "esc", scopes: ["keys:read", "webhooks:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("webhooks:read");
    expect(res.body.detail).toContain("webhooks:read");
    for (const scopes of [["api:read"], ["api:write"], ["audit:read"], ["keys:write", "sources:write"]]) {
      expectProblem(await call("POST", "/v1/keys", { key: limited.key, body: { name: "esc", scopes } }), 403, "scope_escalation");
    }
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.body.data).toHaveLength(2);
  });

  it("a keys:write-only key cannot mint keys:read, but can mint keys:write", async () => {
    const { key: admin } = await newTenant();
    const writer = await newKey(admin, { scopes: ["keys:write"] });
    const res = await call("POST", "/v1/keys", { key: writer.key, body: { name: "r", scopes: ["keys:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("keys:read");
    const ok = await call("POST", "/v1/keys", { key: writer.key, body: { name: "w", scopes: ["keys:write"] } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.scopes).toEqual(["keys:write"]);
  });

  it("api:read/api:write keys can mint any subset, wildcards included", async () => {
    const { key: admin } = await newTenant();
    for (const scopes of [["api:read"], ["api:write"], ["api:read", "api:write"], ["webhooks:write", "audit:read"], ["sources:read"]]) {
      const res = await call("POST", "/v1/keys", { key: admin, body: { name: "sub", scopes } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.scopes.sort()).toEqual([...scopes].sort());
    }
  });

  it("an api:write + keys:read key can mint write scopes but not other read scopes", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["api:write", "keys:read"] });
    expect((await call("POST", "/v1/keys", { key: k.key, body: { name: "a", scopes: ["webhooks:write", "keys:read"] } })).status).toBe(201);
    const res = await call("POST", "/v1/keys", { key: k.key, body: { name: "b", scopes: ["audit:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("audit:read");
  });

  it("a key holding every read scope individually may mint api:read", async () => {
    const { key: admin } = await newTenant();
    const all = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read", "keys:write"];
    const k = await newKey(admin, { scopes: all });
    const res = await call("POST", "/v1/keys", { key: k.key, body: { name: "w", scopes: ["api:read"] } });
    expect(res.status, res.text).toBe(201);
  });
});

describe("tenant isolation", () => {
  it("another tenant's key id → 404 on GET/PATCH/DELETE/rotate, and the key is untouched", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const victim = await newKey(a.key, { scopes: ["keys:read"], ipAllowlist: ["10.0.0.0/8"] });
    for (const [method, path, body] of [
      ["GET", `/v1/keys/${victim.id}`, undefined],
      ["PATCH", `/v1/keys/${victim.id}`, { name: "pwned", ipAllowlist: null }],
      ["DELETE", `/v1/keys/${victim.id}`, undefined],
      ["POST", `/v1/keys/${victim.id}/rotate`, { graceSeconds: 0 }],
      ["GET", `/v1/keys/${a.keyId}`, undefined],
      ["DELETE", `/v1/keys/${a.keyId}`, undefined],
      ["POST", `/v1/keys/${a.keyId}/rotate`, { graceSeconds: 0 }],
    ] as const) {
      const res = await call(method, path, { key: b.key, ...(body ? { body } : {}) });
      expectProblem(res, 404, "not_found");
      expect(res.text).not.toContain(victim.body.name);
    }
    const got = await call("GET", `/v1/keys/${victim.id}`, { key: a.key });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: victim.body.name, ipAllowlist: ["10.0.0.0/8"], revokedAt: null });
    expect((await call("GET", "/v1/keys", { key: victim.key, ip: "10.1.2.3" })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: a.key })).status).toBe(200);
    // B's list holds only B's key.
    const listB = await call("GET", "/v1/keys", { key: b.key });
    expect(listB.body.data.map((k: { id: string }) => k.id)).toEqual([b.keyId]);
    const { items } = await allPages("/v1/keys", { key: a.key });
    expect(items.map((k: { id: string }) => k.id).sort()).toEqual([a.keyId, victim.id].sort());
  });
});

describe("lastUsedAt", () => {
  it("is null until the key is used, then set close to now", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await call("GET", `/v1/keys/${k.id}`, { key: admin })).body.lastUsedAt).toBeNull();
    const usedAt = Date.now();
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    // Written in the background (the key's Durable Object flushes it to D1): poll, running that flush.
    const lastUsedAt = await eventually(async () => {
      const got = await call("GET", `/v1/keys/${k.id}`, { key: admin });
      if (got.body.lastUsedAt) return got.body.lastUsedAt as string;
      await flushCredentialUsage(k.id);
      return undefined;
    }, 30, 100);
    expect(lastUsedAt).toMatch(ISO);
    // Kept to the minute is fine.
    expect(Math.abs(Date.parse(lastUsedAt) - usedAt)).toBeLessThan(65_000);
  });

  it("a refused request does not count as use", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["audit:read"] });
    expectProblem(await call("GET", "/v1/keys", { key: k.key }), 403, "insufficient_scope");
    await sleep(300);
    await flushCredentialUsage(k.id);
    expect((await call("GET", `/v1/keys/${k.id}`, { key: admin })).body.lastUsedAt).toBeNull();
  });
});
