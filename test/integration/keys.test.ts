import { describe, expect, it } from "vitest";
import {
  call,
  eventually,
  expectProblem,
  fieldError,
  flushCredentialUsage,
  newKey,
  newTenant,
  type Result,
  sha256Hex,
  sleep,
  unique,
} from "./helpers";

const KEY_ID = /^key_[0-9A-Za-z]{20}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
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
    const rateLimits = { read: { limit: 50, windowSeconds: 60 }, write: { limit: 5, windowSeconds: 10 } };
    const res = await call("POST", "/v1/keys", {
      key: admin,
      body: {
        name: "full",
        scopes: ["keys:read"],
        expiresAt: expiresAt.toISOString(),
        ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"],
        rateLimits,
      },
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
    const res = await call("POST", "/v1/keys", {
      key: admin,
      body: { name: "tz", scopes: ["keys:read"], expiresAt: "2099-06-01T12:00:00+02:00" },
    });
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
      const res = await call("POST", "/v1/keys", {
        key: admin,
        body: { name: "x", scopes: ["keys:read"], ipAllowlist: ["10.0.0.0/8", bad] },
      });
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
    ["an unknown field", { rateLimits: { read: { limit: 1, windowSeconds: 1 } } }, "rateLimits"],
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

describe("lastUsedAt", () => {
  it("is null until the key is used, then set close to now", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["keys:read"] });
    expect((await call("GET", `/v1/keys/${k.id}`, { key: admin })).body.lastUsedAt).toBeNull();
    const usedAt = Date.now();
    expect((await call("GET", "/v1/keys", { key: k.key })).status).toBe(200);
    // Written in the background (the key's Durable Object flushes it to D1): poll, running that flush.
    const lastUsedAt = await eventually(
      async () => {
        const got = await call("GET", `/v1/keys/${k.id}`, { key: admin });
        if (got.body.lastUsedAt) return got.body.lastUsedAt as string;
        await flushCredentialUsage(k.id);
        return undefined;
      },
      30,
      100,
    );
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
