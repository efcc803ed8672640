import { describe, expect, it } from "vitest";
import { call, eventually, expectProblem, newKey, newTenant, sleep } from "./helpers";

const KEY_ID = /^key_[0-9A-Za-z]{20}$/;
const PUBLIC_FIELDS = [
  "id",
  "name",
  "start",
  "last4",
  "mode",
  "scopes",
  "ipAllowlist",
  "rateLimits",
  "createdAt",
  "expiresAt",
  "lastUsedAt",
  "revokedAt",
  "lockedBy",
  "status",
];

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
    const rateLimits = { read: { limit: 50, windowSeconds: 60 } };
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
    const res = await eventually(
      async () => {
        const r = await call("POST", "/v1/keys", { key: admin, body: { name: "x", scopes: ["keys:read"] } });
        return r.status === 201 ? r : undefined;
      },
      30,
      500,
    );
    expect(res.status).toBe(201);
  });
});
