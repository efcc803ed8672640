import { describe, expect, it } from "vitest";
import { allPages, call, expectProblem, newKey, newTenant, type Result, sha256Hex, sleep, unique } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
type Entry = {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  ip: string | null;
  requestId: string;
  details: unknown;
};

const audit = async (key: string, query = "") => {
  const res = await call("GET", `/v1/audit-log${query}`, { key });
  if (res.status !== 200) throw new Error(`audit-log ${res.status}: ${res.text}`);
  return res.body.data as Entry[];
};
const findOne = (entries: Entry[], action: string, target: string) => {
  const found = entries.filter((e) => e.action === action && e.target === target);
  expect(found, `${action} ${target} in ${JSON.stringify(entries.map((e) => [e.action, e.target]))}`).toHaveLength(1);
  return found[0]!;
};
/** Distinct timestamps between steps whose order the test checks. */
const tick = () => sleep(5);

describe("entries", () => {
  it("tenant.created and key.created by the operator carry actor admin, ip and requestId", async () => {
    const requestId = `admin-${unique()}`.replace(/[^A-Za-z0-9._:-]/g, "");
    const res = await call("POST", "/admin/tenants", {
      admin: true,
      ip: "192.0.2.44",
      headers: { "x-request-id": requestId },
      body: { name: unique("audited") },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    const { tenant, key } = res.body;
    const entries = await audit(key.key);
    const created = findOne(entries, "tenant.created", tenant.id);
    expect(created).toMatchObject({ actor: "operator", ip: "192.0.2.44", requestId });
    expect(created.at).toMatch(ISO);
    expect(created.id).toEqual(expect.any(String));
    const firstKey = findOne(entries, "key.created", key.id);
    expect(firstKey).toMatchObject({ actor: "operator", ip: "192.0.2.44", requestId });
    // The operator's log repeats both, naming the tenant.
    const operators = await call("GET", "/admin/audit-log?limit=100", { admin: true });
    const mine = operators.body.data.filter((e: { requestId: string }) => e.requestId === requestId);
    expect(mine.map((e: { action: string }) => e.action).sort()).toEqual(["key.created", "tenant.created"]);
    for (const e of mine) expect(e.details.tenantId).toBe(tenant.id);
  });

  it("key.created / key.updated / key.revoked / key.rotated name the credential, target, ip and request id", async () => {
    const { key: admin, keyId: adminId } = await newTenant();
    const ip = "198.51.100.23";

    const created = await call("POST", "/v1/keys", { key: admin, ip, body: { name: "audited", scopes: ["keys:read"] } });
    expect(created.status, created.text).toBe(201);
    const updated = await call("PATCH", `/v1/keys/${created.body.id}`, { key: admin, ip, body: { name: "renamed" } });
    expect(updated.status, updated.text).toBe(200);
    const rotated = await call("POST", `/v1/keys/${created.body.id}/rotate`, { key: admin, ip, body: { graceSeconds: 60 } });
    expect(rotated.status, rotated.text).toBe(201);
    const revoked = await call("DELETE", `/v1/keys/${rotated.body.id}`, { key: admin, ip: "2001:db8::7" });
    expect(revoked.status, revoked.text).toBe(204);

    const entries = await audit(admin);
    const c = findOne(entries, "key.created", created.body.id);
    expect(c).toMatchObject({ actor: adminId, ip, requestId: created.headers.get("x-request-id") });
    const u = findOne(entries, "key.updated", created.body.id);
    expect(u).toMatchObject({ actor: adminId, ip, requestId: updated.headers.get("x-request-id") });
    const r = findOne(entries, "key.rotated", created.body.id);
    expect(r).toMatchObject({ actor: adminId, ip, requestId: rotated.headers.get("x-request-id") });
    expect(JSON.stringify(r.details)).toContain(rotated.body.id);
    const v = findOne(entries, "key.revoked", rotated.body.id);
    expect(v).toMatchObject({ actor: adminId, ip: "2001:db8::7", requestId: revoked.headers.get("x-request-id") });
    // Distinct requests, distinct ids.
    expect(new Set([c.requestId, u.requestId, r.requestId, v.requestId]).size).toBe(4);
  });

  it("the actor is the calling credential, not the tenant's first key", async () => {
    const { key: admin } = await newTenant();
    const writer = await newKey(admin, { scopes: ["keys:write", "keys:read"] });
    const res = await call("POST", "/v1/keys", { key: writer.key, body: { name: "by-writer", scopes: ["keys:read"] } });
    expect(res.status, res.text).toBe(201);
    const entry = findOne(await audit(admin), "key.created", res.body.id);
    expect(entry.actor).toBe(writer.id);
    expect(entry.ip).toBeNull();
  });

  it("an inbound X-Request-Id is the one recorded", async () => {
    const { key: admin } = await newTenant();
    const requestId = `trace.${Date.now()}`;
    const res = await call("POST", "/v1/keys", {
      key: admin,
      headers: { "x-request-id": requestId },
      body: { name: "traced", scopes: ["keys:read"] },
    });
    expect(res.status, res.text).toBe(201);
    expect(findOne(await audit(admin), "key.created", res.body.id).requestId).toBe(requestId);
  });

  it("operator changes to the tenant are recorded as operator, in the tenant's log and the operator's", async () => {
    const { tenant, key } = await newTenant();
    const res = await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, ip: "192.0.2.1", body: { quotas: { apiKeys: 20 } } });
    expect(res.status, res.text).toBe(200);
    const entry = findOne(await audit(key), "tenant.updated", tenant.id);
    expect(entry).toMatchObject({ actor: "operator", ip: "192.0.2.1", requestId: res.headers.get("x-request-id") });
    const operatorLog = await call("GET", "/admin/audit-log?action=tenant.updated&limit=100", { admin: true });
    const mirrored = operatorLog.body.data.find((e: { requestId: string }) => e.requestId === res.headers.get("x-request-id"));
    expect(mirrored).toMatchObject({ actor: "operator", target: tenant.id, details: { tenantId: tenant.id } });
  });

  it("refused and failed requests leave no entry", async () => {
    const { key: admin } = await newTenant({ quotas: { apiKeys: 2 } });
    const limited = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const before = await audit(admin, "?limit=100");
    expectProblem(
      await call("POST", "/v1/keys", { key: limited.key, body: { name: "esc", scopes: ["audit:read"] } }),
      403,
      "scope_escalation",
    );
    expectProblem(await call("POST", "/v1/keys", { key: admin, body: { name: "over", scopes: ["keys:read"] } }), 409, "quota_exceeded");
    expectProblem(await call("POST", "/v1/keys", { key: admin, body: { name: "", scopes: ["keys:read"] } }), 422, "validation_failed");
    expectProblem(await call("PATCH", `/v1/keys/${limited.id}`, { key: admin, body: { scopes: ["api:read"] } }), 422, "validation_failed");
    expectProblem(await call("DELETE", "/v1/keys/key_00000000000000000000", { key: admin }), 404, "not_found");
    const after = await audit(admin, "?limit=100");
    expect(after.map((e) => e.id)).toEqual(before.map((e) => e.id));
  });
});

describe("listing", () => {
  it("is newest first", async () => {
    const { key: admin } = await newTenant();
    await tick();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    await tick();
    await call("PATCH", `/v1/keys/${a.id}`, { key: admin, body: { name: "a2" } });
    await tick();
    await call("DELETE", `/v1/keys/${a.id}`, { key: admin });
    await tick();
    const b = await newKey(admin, { scopes: ["keys:read"] });

    const entries = await audit(admin);
    const mine = entries.map((e) => `${e.action} ${e.target}`).filter((s) => s.includes(a.id) || s.includes(b.id));
    expect(mine).toEqual([`key.created ${b.id}`, `key.revoked ${a.id}`, `key.updated ${a.id}`, `key.created ${a.id}`]);
    for (let i = 1; i < entries.length; i++) {
      expect(Date.parse(entries[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(entries[i]!.at));
    }
    // The tenant's own creation is the oldest.
    expect(entries.at(-1)!.action).toMatch(/^(tenant|key)\.created$/);
  });

  it("filters by action", async () => {
    const { key: admin } = await newTenant();
    const a = await newKey(admin, { scopes: ["keys:read"] });
    const b = await newKey(admin, { scopes: ["keys:read"] });
    await call("PATCH", `/v1/keys/${a.id}`, { key: admin, body: { name: "x" } });
    await call("PATCH", `/v1/keys/${b.id}`, { key: admin, body: { name: "y" } });
    await call("DELETE", `/v1/keys/${b.id}`, { key: admin });

    const updated = await audit(admin, "?action=key.updated");
    expect(updated.map((e) => e.action)).toEqual(["key.updated", "key.updated"]);
    expect(updated.map((e) => e.target).sort()).toEqual([a.id, b.id].sort());
    const revoked = await audit(admin, "?action=key.revoked");
    expect(revoked.map((e) => e.target)).toEqual([b.id]);
    const created = await audit(admin, "?action=key.created");
    expect(created).toHaveLength(3);
    expect(created.every((e) => e.action === "key.created")).toBe(true);
    expect(await audit(admin, "?action=webhook.updated")).toEqual([]);
    const tenantCreated = await audit(admin, "?action=tenant.created");
    expect(tenantCreated).toHaveLength(1);
  });

  it("pages with limit and nextCursor, without repeats, in the same order as one page", async () => {
    const { key: admin } = await newTenant();
    for (let i = 0; i < 4; i++) await newKey(admin, { scopes: ["keys:read"] });
    const whole = await audit(admin, "?limit=100");
    expect(whole.length).toBe(6);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Result = await call("GET", `/v1/audit-log?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        key: admin,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((e: Entry) => e.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(3);
    expect(seen).toEqual(whole.map((e) => e.id));

    // Filter and pagination together.
    const filtered = await allPages<Entry>("/v1/audit-log?action=key.created", { key: admin }, 1);
    expect(filtered.pages).toBe(5);
    expect(filtered.items.map((e) => e.id)).toEqual(whole.filter((e) => e.action === "key.created").map((e) => e.id));
  });

  it("defaults to 20 entries per page", async () => {
    const { key: admin } = await newTenant({ quotas: { apiKeys: 30 }, rateLimits: { write: { limit: 100, windowSeconds: 60 } } });
    for (let i = 0; i < 20; i++) await newKey(admin, { scopes: ["keys:read"] });
    const res = await call("GET", "/v1/audit-log", { key: admin });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(20);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it("an entry has exactly the documented fields", async () => {
    const { key: admin } = await newTenant();
    const [entry] = await audit(admin, "?limit=1");
    expect(Object.keys(entry!).sort()).toEqual(["action", "actor", "actorName", "at", "details", "id", "ip", "requestId", "target"]);
  });
});

describe("access", () => {
  it("needs audit:read → 403 insufficient_scope otherwise", async () => {
    const { key: admin } = await newTenant();
    const noAudit = await newKey(admin, { scopes: ["keys:read", "keys:write", "webhooks:read", "api:write"] });
    const res = await call("GET", "/v1/audit-log", { key: noAudit.key });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe("audit:read");
    const onlyAudit = await newKey(admin, { scopes: ["audit:read"] });
    expect((await call("GET", "/v1/audit-log", { key: onlyAudit.key })).status).toBe(200);
    const wildcard = await newKey(admin, { scopes: ["api:read"] });
    expect((await call("GET", "/v1/audit-log", { key: wildcard.key })).status).toBe(200);
  });

  it("is read-only: writes to the audit log are not routes", async () => {
    const { key: admin } = await newTenant();
    for (const method of ["POST", "DELETE", "PATCH", "PUT"]) {
      const res = await call(method, "/v1/audit-log", { key: admin, body: {} });
      expect(res.status, `${method} ${res.text}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const entries = await audit(admin);
    expect(entries.length).toBe(2);
  });

  it("never shows another tenant's entries", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const aKey = await newKey(a.key, { scopes: ["keys:read"] });
    await call("PATCH", `/v1/keys/${aKey.id}`, { key: a.key, body: { name: "secret-project" } });
    await call("DELETE", `/v1/keys/${aKey.id}`, { key: a.key });
    await newKey(b.key, { scopes: ["keys:read"] });

    const { items: bEntries } = await allPages<Entry>("/v1/audit-log", { key: b.key });
    const bText = JSON.stringify(bEntries);
    for (const id of [a.tenant.id, a.keyId, aKey.id]) expect(bText).not.toContain(id);
    expect(bText).not.toContain("secret-project");
    expect(bEntries.map((e) => e.action).sort()).toEqual(["key.created", "key.created", "tenant.created"]);
    for (const e of bEntries) expect([b.tenant.id, b.keyId].includes(e.target) || e.actor === b.keyId).toBe(true);

    // Filters do not leak either.
    const revokedInB = await audit(b.key, "?action=key.revoked");
    expect(revokedInB).toEqual([]);
    // A's cursor used by B shows only B's entries.
    const pageA = await call("GET", "/v1/audit-log?limit=1", { key: a.key });
    expect(pageA.body.nextCursor).toEqual(expect.any(String));
    const crossed = await call("GET", `/v1/audit-log?limit=100&cursor=${encodeURIComponent(pageA.body.nextCursor)}`, { key: b.key });
    expect(crossed.status).toBe(200);
    expect(JSON.stringify(crossed.body)).not.toContain(a.tenant.id);
    expect(JSON.stringify(crossed.body)).not.toContain(aKey.id);
  });

  it("no key secret or hash appears anywhere in the audit log", async () => {
    const { key: admin, keyId } = await newTenant();
    const secrets = [admin];
    const a = await newKey(admin, { scopes: ["keys:read", "keys:write"], ipAllowlist: ["10.0.0.0/8"] });
    secrets.push(a.key);
    const rotated = await call("POST", `/v1/keys/${a.id}/rotate`, { key: admin, body: { graceSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(201);
    secrets.push(rotated.body.key);
    const selfRotated = await call("POST", `/v1/keys/${keyId}/rotate`, { key: admin, body: { graceSeconds: 30 } });
    expect(selfRotated.status, selfRotated.text).toBe(201);
    secrets.push(selfRotated.body.key);
    await call("PATCH", `/v1/keys/${rotated.body.id}`, { key: selfRotated.body.key, body: { name: "n" } });
    await call("DELETE", `/v1/keys/${rotated.body.id}`, { key: selfRotated.body.key });

    const { items } = await allPages<Entry>("/v1/audit-log", { key: selfRotated.body.key });
    expect(items.map((e) => e.action).sort()).toEqual(
      ["key.created", "key.created", "key.revoked", "key.rotated", "key.rotated", "key.updated", "tenant.created"].sort(),
    );
    const text = JSON.stringify(items);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.split("_")[3]!);
      expect(text).not.toContain(secret.split("_")[3]!.slice(0, 32));
      expect(text).not.toContain(await sha256Hex(secret));
    }
  });

  it("keeps insertion order for entries written in the same millisecond (tenant creation writes two)", async () => {
    for (let i = 0; i < 5; i++) {
      const { key } = await newTenant();
      const res = await call("GET", "/v1/audit-log", { key });
      expect(res.status).toBe(200);
      // tenant.created is written first, then the first key's key.created: newest first.
      expect(res.body.data.map((e: { action: string }) => e.action)).toEqual(["key.created", "tenant.created"]);
    }
  });
});
