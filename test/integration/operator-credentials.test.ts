import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, expectProblem, fieldError, newKey, newTenant, unique } from "./helpers";

const admin = { admin: true } as const;
const wrongToken = { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } };
const IN = "203.0.113.7";
const OUT = "198.51.100.9";

const keysOf = (tenantId: string, query = "") => call("GET", `/admin/tenants/${tenantId}/keys${query}`, admin);
const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((k) => k.id).sort();

/** A tenant with an active, a revoked and an expired key besides its first one. */
async function tenantWithKeys() {
  const t = await newTenant();
  const active = await newKey(t.key, { name: unique("Billing-Sync"), scopes: ["api:read"] });
  const revoked = await newKey(t.key, { name: unique("old"), scopes: ["api:read"] });
  expect((await call("DELETE", `/v1/keys/${revoked.id}`, { key: t.key })).status).toBe(204);
  const expired = await newKey(t.key, { name: unique("temp"), scopes: ["api:read"] });
  await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
    .bind(Date.now() - 60_000, expired.id)
    .run();
  return { ...t, active, revoked, expired };
}

describe("a tenant's keys, for support", () => {
  it("lists every key with its status, filtered by status, part of the name and last 4", async () => {
    const t = await tenantWithKeys();
    const all = await keysOf(t.tenant.id);
    expect(all.status, all.text).toBe(200);
    expect(ids(all)).toEqual([t.keyId, t.active.id, t.revoked.id, t.expired.id].sort());
    const byId = Object.fromEntries(all.body.data.map((k: { id: string; status: string }) => [k.id, k]));
    expect(byId[t.active.id]).toMatchObject({ status: "active", revokedAt: null, lockedBy: {} });
    expect(byId[t.revoked.id].status).toBe("revoked");
    expect(byId[t.revoked.id].revokedAt).toEqual(expect.any(String));
    expect(byId[t.expired.id].status).toBe("expired");
    expect(JSON.stringify(all.body)).not.toContain(t.active.key);

    expect(ids(await keysOf(t.tenant.id, "?status=active"))).toEqual([t.keyId, t.active.id].sort());
    expect(ids(await keysOf(t.tenant.id, "?status=revoked"))).toEqual([t.revoked.id]);
    expect(ids(await keysOf(t.tenant.id, "?status=expired"))).toEqual([t.expired.id]);
    const name = t.active.body.name.toLowerCase().slice(0, 16);
    const last4 = t.active.key.slice(-4);
    expect(ids(await keysOf(t.tenant.id, `?name=${encodeURIComponent(name)}&last4=${last4}`))).toEqual([t.active.id]);
    expect(ids(await keysOf(t.tenant.id, `?name=${encodeURIComponent(name)}&status=revoked`))).toEqual([]);

    const one = await call("GET", `/admin/tenants/${t.tenant.id}/keys/${t.revoked.id}`, admin);
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ id: t.revoked.id, status: "revoked" });
  });

  it("pages with limit and cursor", async () => {
    const t = await tenantWithKeys();
    const first = await keysOf(t.tenant.id, "?limit=3");
    expect(first.body.data).toHaveLength(3);
    const second = await keysOf(t.tenant.id, `?limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
  });

  it("refuses a bad filter with 400 naming it, a wrong token with 401, another tenant's ids with 404", async () => {
    const t = await tenantWithKeys();
    const other = await newTenant();
    const bad = await keysOf(t.tenant.id, "?status=lost");
    expectProblem(bad, 400, "invalid_query");
    expect(fieldError(bad, "status").allowed).toEqual(["active", "revoked", "expired", "all"]);
    expect(fieldError(await keysOf(t.tenant.id, "?last4=ab"), "last4").message).toMatch(/last 4/);
    // Empty values, as a search form sends them, filter nothing.
    const all = await keysOf(t.tenant.id, "?status=all&last4=&name=");
    expect(all.status, all.text).toBe(200);
    expect(ids(all)).toEqual(ids(await keysOf(t.tenant.id, "?status=all")));
    for (const [method, body] of [["GET"], ["DELETE"], ["PATCH", { ipAllowlist: [IN] }]] as const) {
      const path = `/admin/tenants/${other.tenant.id}/keys/${t.active.id}`;
      expectProblem(await call(method, path, { ...admin, body }), 404, "not_found");
      expectProblem(
        await call(method, `/admin/tenants/${t.tenant.id}/keys/${t.active.id}`, { ...wrongToken, body }),
        401,
        "invalid_credential",
      );
    }
    expectProblem(await call("GET", "/admin/tenants/ten_00000000000000000000/keys", admin), 404, "not_found");
    expect((await call("GET", "/v1/keys", { key: t.active.key })).status).toBe(200);
  });

  it("revokes a key at once, audited as operator in the tenant's log and the operator's", async () => {
    const t = await tenantWithKeys();
    expect((await call("GET", "/v1/scopes", { key: t.active.key })).status).toBe(200);
    const res = await call("DELETE", `/admin/tenants/${t.tenant.id}/keys/${t.active.id}`, admin);
    expect(res.status, res.text).toBe(204);
    expectProblem(await call("GET", "/v1/scopes", { key: t.active.key }), 401, "credential_revoked");
    const requestId = res.headers.get("x-request-id");
    const tenantLog = await call("GET", "/v1/audit-log?action=key.revoked", { key: t.key });
    expect(tenantLog.body.data.find((e: { requestId: string }) => e.requestId === requestId)).toMatchObject({
      actor: "operator",
      target: t.active.id,
    });
    const operatorLog = await call("GET", "/admin/audit-log?action=key.revoked&limit=100", admin);
    expect(operatorLog.body.data.find((e: { requestId: string }) => e.requestId === requestId)).toMatchObject({
      actor: "operator",
      target: t.active.id,
      details: { tenantId: t.tenant.id },
    });
    expect((await call("GET", `/admin/tenants/${t.tenant.id}/keys/${t.active.id}`, admin)).body.status).toBe("revoked");
  });
});

describe("operator locks on a tenant's key", () => {
  const lock = (tenantId: string, keyId: string, body: unknown) =>
    call("PATCH", `/admin/tenants/${tenantId}/keys/${keyId}`, { ...admin, body });

  it("sets and locks an allowlist: enforced at once, shown to the tenant, refused to the tenant's PATCH", async () => {
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read", "api:write"] });
    const res = await lock(t.tenant.id, k.id, { ipAllowlist: ["203.0.113.0/24"] });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ ipAllowlist: ["203.0.113.0/24"], lockedBy: { ipAllowlist: "operator" }, status: "active" });
    expectProblem(await call("GET", "/v1/scopes", { key: k.key, ip: OUT }), 403, "ip_not_allowed");
    expect((await call("GET", "/v1/scopes", { key: k.key, ip: IN })).status).toBe(200);

    const seen = await call("GET", `/v1/keys/${k.id}`, { key: t.key });
    expect(seen.body.lockedBy).toEqual({ ipAllowlist: "operator" });
    const listed = await call("GET", "/v1/keys", { key: t.key });
    expect(listed.body.data.find((x: { id: string }) => x.id === k.id).lockedBy).toEqual({ ipAllowlist: "operator" });

    for (const ipAllowlist of [null, ["0.0.0.0/0"], ["203.0.113.8/32"]]) {
      expectProblem(await call("PATCH", `/v1/keys/${k.id}`, { key: t.key, body: { ipAllowlist } }), 403, "operator_locked");
    }
    const renamed = await call("PATCH", `/v1/keys/${k.id}`, { key: t.key, body: { name: unique("renamed") } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.ipAllowlist).toEqual(["203.0.113.0/24"]);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    expect((await call("PATCH", `/v1/keys/${k.id}`, { key: t.key, body: { expiresAt } })).status).toBe(200);

    const entry = (await call("GET", "/v1/audit-log?action=key.locked", { key: t.key })).body.data[0];
    expect(entry).toMatchObject({ actor: "operator", target: k.id, details: { fields: ["ipAllowlist"] } });
  });

  it("locks an expiry; null clears and unlocks it", async () => {
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read"] });
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await lock(t.tenant.id, k.id, { expiresAt });
    expect(res.body).toMatchObject({ expiresAt, lockedBy: { expiresAt: "operator" } });
    expectProblem(await call("PATCH", `/v1/keys/${k.id}`, { key: t.key, body: { expiresAt: null } }), 403, "operator_locked");
    const cleared = await lock(t.tenant.id, k.id, { expiresAt: null });
    expect(cleared.body).toMatchObject({ expiresAt: null, lockedBy: {} });
    expect((await call("PATCH", `/v1/keys/${k.id}`, { key: t.key, body: { expiresAt } })).status).toBe(200);
  });

  it.each([
    ["ipAllowlist.0", { ipAllowlist: ["not-an-ip"] }],
    ["expiresAt", { expiresAt: "2001-01-01T00:00:00Z" }],
    ["name", { name: "renamed" }],
    ["scopes", { scopes: ["api:read"] }],
  ])("refuses %s with 422 naming it, and changes nothing", async (field, body) => {
    const t = await newTenant();
    const k = await newKey(t.key, { scopes: ["api:read"] });
    const res = await lock(t.tenant.id, k.id, body);
    expectProblem(res, 422, "validation_failed");
    const named = res.body.errors.some((e: { path: string }) => e.path === field);
    expect(named, res.text).toBe(true);
    const after = await call("GET", `/v1/keys/${k.id}`, { key: t.key });
    expect(after.body).toMatchObject({ name: k.body.name, ipAllowlist: [], expiresAt: null, lockedBy: {} });
  });

  it("what a locked key creates or rotates into inherits the lock, and cannot loosen past it", async () => {
    const t = await newTenant();
    const parent = await newKey(t.key, { scopes: ["api:read", "api:write"] });
    await lock(t.tenant.id, parent.id, { ipAllowlist: ["203.0.113.0/24"] });

    const loose = await call("POST", "/v1/keys", { key: parent.key, ip: IN, body: { name: unique(), scopes: ["api:read"] } });
    expectProblem(loose, 403, "restriction_escalation");
    const child = await call("POST", "/v1/keys", {
      key: parent.key,
      ip: IN,
      body: { name: unique(), scopes: ["api:read"], ipAllowlist: ["203.0.113.0/25"] },
    });
    expect(child.status, child.text).toBe(201);
    expect(child.body.lockedBy).toEqual({ ipAllowlist: "operator" });
    expectProblem(await call("PATCH", `/v1/keys/${child.body.id}`, { key: t.key, body: { ipAllowlist: null } }), 403, "operator_locked");

    // Rotated by the tenant's unlocked key: the new key keeps the old one's allowlist and lock.
    const rotated = await call("POST", `/v1/keys/${parent.id}/rotate`, { key: t.key, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(201);
    expect(rotated.body).toMatchObject({ ipAllowlist: ["203.0.113.0/24"], lockedBy: { ipAllowlist: "operator" } });
    expectProblem(await call("PATCH", `/v1/keys/${rotated.body.id}`, { key: t.key, body: { ipAllowlist: null } }), 403, "operator_locked");

    // An unlocked key rotated by a locked one inherits the caller's lock.
    const plain = await newKey(t.key, { scopes: ["api:read"], ipAllowlist: ["203.0.113.9/32"] });
    const byLocked = await call("POST", `/v1/keys/${plain.id}/rotate`, { key: rotated.body.key, ip: IN, body: { graceSeconds: 0 } });
    expect(byLocked.status, byLocked.text).toBe(201);
    expect(byLocked.body.lockedBy).toEqual({ ipAllowlist: "operator" });
  });
});

describe("a tenant's OAuth clients, for support", () => {
  async function withClient() {
    const t = await newTenant();
    const res = await call("POST", "/v1/oauth-clients", { key: t.key, body: { name: unique("Zapier"), scopes: ["api:read"] } });
    expect(res.status, res.text).toBe(201);
    return { ...t, client: res.body };
  }
  const token = (id: string, secret: string, ip = IN) =>
    call("POST", "/oauth/token", {
      rawBody: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${id}:${secret}`)}` },
      ip,
    });

  it("lists, finds, locks and deletes a client; another tenant's id is 404", async () => {
    const t = await withClient();
    const other = await newTenant();
    const base = `/admin/tenants/${t.tenant.id}/oauth-clients`;
    const list = await call("GET", `${base}?name=zapier&last4=${t.client.clientSecret.slice(-4)}`, admin);
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([t.client.id]);
    expect(list.body.data[0]).toMatchObject({ status: "active", revokedAt: null, lockedBy: {} });
    expectProblem(await call("GET", `/admin/tenants/${other.tenant.id}/oauth-clients/${t.client.id}`, admin), 404, "not_found");
    expectProblem(await call("DELETE", `/admin/tenants/${other.tenant.id}/oauth-clients/${t.client.id}`, admin), 404, "not_found");
    expectProblem(await call("GET", base, wrongToken), 401, "invalid_credential");
    const bad = await call("PATCH", `${base}/${t.client.id}`, { ...admin, body: { ipAllowlist: ["nope"] } });
    expectProblem(bad, 422, "validation_failed");
    expect(fieldError(bad, "ipAllowlist.0").message).toBeTruthy();

    const locked = await call("PATCH", `${base}/${t.client.id}`, { ...admin, body: { ipAllowlist: ["203.0.113.0/24"] } });
    expect(locked.status, locked.text).toBe(200);
    expect(locked.body).toMatchObject({ ipAllowlist: ["203.0.113.0/24"], lockedBy: { ipAllowlist: "operator" } });
    const seen = await call("GET", `/v1/oauth-clients/${t.client.id}`, { key: t.key });
    expect(seen.body.lockedBy).toEqual({ ipAllowlist: "operator" });
    const issued = await token(t.client.id, t.client.clientSecret);
    expect(issued.status, issued.text).toBe(200);
    expectProblem(await call("GET", "/v1/scopes", { key: issued.body.access_token, ip: OUT }), 403, "ip_not_allowed");

    const gone = await call("DELETE", `${base}/${t.client.id}`, admin);
    expect(gone.status, gone.text).toBe(204);
    expect((await call("GET", "/v1/scopes", { key: issued.body.access_token, ip: IN })).status).toBe(401);
    expect((await token(t.client.id, t.client.clientSecret)).status).toBe(401);
    const after = await call("GET", `${base}/${t.client.id}`, admin);
    expect(after.body).toMatchObject({ status: "revoked", revokedAt: expect.any(String) });
  });

  it("a client created by a locked key inherits the lock", async () => {
    const t = await newTenant();
    const parent = await newKey(t.key, { scopes: ["api:read", "api:write"] });
    await call("PATCH", `/admin/tenants/${t.tenant.id}/keys/${parent.id}`, { ...admin, body: { ipAllowlist: ["203.0.113.0/24"] } });
    const res = await call("POST", "/v1/oauth-clients", {
      key: parent.key,
      ip: IN,
      body: { name: unique(), scopes: ["api:read"], ipAllowlist: ["203.0.113.0/24"] },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.lockedBy).toEqual({ ipAllowlist: "operator" });
  });
});
