import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyRecords } from "../../src/auth/cache";
import type { CredentialPolicy } from "../../src/ratelimit/policy";
import { call, eventually, expectProblem, newKey, newTenant, sha256Hex, sleep, unique } from "./helpers";

const stubFor = (id: string) => env.CREDENTIAL_GATE.get(env.CREDENTIAL_GATE.idFromName(id));
const listKeys = (key: string, ip?: string) => call("GET", "/v1/keys", { key, ip });

describe("revocation", () => {
  it("DELETE: the very next request with the key gets 401 credential_revoked, though it was cached", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    // Warm this isolate's cache with the live key record.
    expect((await listKeys(k.key)).status).toBe(200);
    expect((await listKeys(k.key)).status).toBe(200);

    const del = await call("DELETE", `/v1/keys/${k.id}`, { key });
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    const res = await listKeys(k.key);
    expectProblem(res, 401, "credential_revoked");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
    // And it stays revoked; the key is gone from the API.
    expectProblem(await listKeys(k.key), 401, "credential_revoked");
    expectProblem(await call("GET", `/v1/keys/${k.id}`, { key }), 404, "not_found");
    expectProblem(await call("DELETE", `/v1/keys/${k.id}`, { key }), 404, "not_found");
  });

  it("a revocation published to the key's object wins over a live record in the isolate cache", async () => {
    // What another isolate's DELETE looks like from here: the object knows, this cache does not.
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    expect((await listKeys(k.key)).status).toBe(200);
    const cached = keyRecords.get(await sha256Hex(k.key));
    expect(cached?.id).toBe(k.id);
    expect(cached?.revokedAt).toBeNull();

    await stubFor(k.id).setPolicy(k.id, { revokedAt: Date.now(), expiresAt: null, ipAllowlist: null });
    // The record is still cached as live...
    expect(keyRecords.get(await sha256Hex(k.key))?.revokedAt).toBeNull();
    // ...and the request is refused anyway.
    expectProblem(await listKeys(k.key), 401, "credential_revoked");
  });

  it("a key can delete itself; its own next request is refused", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read", "keys:write"] });
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: k.key })).status).toBe(204);
    expectProblem(await listKeys(k.key), 401, "credential_revoked");
  });

  it("another tenant cannot revoke the key (404, and the key keeps working)", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const k = await newKey(a.key, { scopes: ["keys:read"] });
    expectProblem(await call("DELETE", `/v1/keys/${k.id}`, { key: b.key }), 404, "not_found");
    expect((await listKeys(k.key)).status).toBe(200);
  });

  it("a stale policy can never un-revoke a credential (race of DELETE with a concurrent writer)", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    const stub = stubFor(k.id);
    const revokedAt = Date.now();
    await stub.setPolicy(k.id, { revokedAt, expiresAt: null, ipAllowlist: null });
    // A writer that read the record before the DELETE publishes what it read.
    await stub.setPolicy(k.id, { revokedAt: null, expiresAt: null, ipAllowlist: ["0.0.0.0/0"] });
    const stale: CredentialPolicy = { revokedAt: null, expiresAt: null, ipAllowlist: null };
    const gate = await stub.check({
      credentialId: k.id,
      bucket: "read",
      window: { limit: 60, windowSeconds: 60 },
      policy: stale,
      storePolicy: true,
      ip: "203.0.113.1",
    });
    expect(gate.verdict).toBe("revoked");
    expectProblem(await listKeys(k.key), 401, "credential_revoked");
    // A later, still-future grace time (rotation) cannot move an earlier revocation either.
    await stub.setPolicy(k.id, { revokedAt: Date.now() + 3_600_000, expiresAt: null, ipAllowlist: null });
    expectProblem(await listKeys(k.key), 401, "credential_revoked");
  });
});

describe("rotation", () => {
  it("keeps the old key working for graceSeconds, then 401; the new key works throughout", async () => {
    const { key } = await newTenant();
    const old = await newKey(key, {
      scopes: ["keys:read"],
      ipAllowlist: ["203.0.113.0/24"],
      rateLimits: { read: { limit: 7, windowSeconds: 60 } },
    });
    expect((await listKeys(old.key, "203.0.113.1")).status).toBe(200);
    const rotated = await call("POST", `/v1/keys/${old.id}/rotate`, { key, body: { graceSeconds: 2 } });
    expect(rotated.status).toBe(201);
    const fresh = rotated.body;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.key).not.toBe(old.key);
    expect(fresh.name).toBe(old.body.name);
    expect(fresh.scopes).toEqual(["keys:read"]);
    expect(fresh.ipAllowlist).toEqual(["203.0.113.0/24"]);
    expect(fresh.rateLimits).toEqual({ read: { limit: 7, windowSeconds: 60 } });
    const rotatedAt = Date.now();

    const during = await listKeys(old.key, "203.0.113.1");
    expect(during.status).toBe(200);
    const oldRecord = await call("GET", `/v1/keys/${old.id}`, { key });
    expect(oldRecord.status).toBe(200);
    expect(Date.parse(oldRecord.body.revokedAt)).toBeGreaterThan(rotatedAt - 1_000);
    expect(Date.parse(oldRecord.body.revokedAt)).toBeLessThanOrEqual(rotatedAt + 2_000);
    const newRes = await listKeys(fresh.key, "203.0.113.1");
    expect(newRes.status).toBe(200);
    expect(newRes.headers.get("x-ratelimit-limit")).toBe("7");
    // The new key inherits the allowlist.
    expectProblem(await listKeys(fresh.key, "198.51.100.1"), 403, "ip_not_allowed");

    await sleep(Math.max(0, rotatedAt + 2_100 - Date.now()));
    expectProblem(await listKeys(old.key, "203.0.113.1"), 401, "credential_revoked");
    expect((await listKeys(fresh.key, "203.0.113.1")).status).toBe(200);
    // The old key cannot be rotated again.
    expect((await call("POST", `/v1/keys/${old.id}/rotate`, { key, body: { graceSeconds: 0 } })).status).toBe(404);
  });

  it("graceSeconds 0 stops the old key at once, though it was cached", async () => {
    const { key } = await newTenant();
    const old = await newKey(key, { scopes: ["keys:read"] });
    expect((await listKeys(old.key)).status).toBe(200);
    const rotated = await call("POST", `/v1/keys/${old.id}/rotate`, { key, body: { graceSeconds: 0 } });
    expect(rotated.status).toBe(201);
    expectProblem(await listKeys(old.key), 401, "credential_revoked");
    expect((await listKeys(rotated.body.key)).status).toBe(200);
  });

  it("rotating twice concurrently yields one new key and one 409", async () => {
    const { key } = await newTenant();
    const old = await newKey(key, { scopes: ["keys:read"] });
    const [a, b] = await Promise.all([
      call("POST", `/v1/keys/${old.id}/rotate`, { key, body: { graceSeconds: 60 } }),
      call("POST", `/v1/keys/${old.id}/rotate`, { key, body: { graceSeconds: 60 } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
  });
});

describe("PATCH takes effect on the very next request", () => {
  it("ipAllowlist: set, then cleared", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read", "keys:write"] });
    expect((await listKeys(k.key, "198.51.100.7")).status).toBe(200);
    expect((await listKeys(k.key)).status).toBe(200);

    const patched = await call("PATCH", `/v1/keys/${k.id}`, { key, body: { ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"] } });
    expect(patched.status).toBe(200);
    expect(patched.body.ipAllowlist).toEqual(["203.0.113.0/24", "2001:db8::/32"]);

    const refused = await listKeys(k.key, "198.51.100.7");
    expectProblem(refused, 403, "ip_not_allowed");
    expect(refused.body.detail).toContain("198.51.100.7");
    expectProblem(await listKeys(k.key), 403, "ip_not_allowed");
    expect((await listKeys(k.key, "203.0.113.77")).status).toBe(200);
    expect((await listKeys(k.key, "2001:db8::1")).status).toBe(200);
    expectProblem(await listKeys(k.key, "2001:db9::1"), 403, "ip_not_allowed");

    const cleared = await call("PATCH", `/v1/keys/${k.id}`, { key, body: { ipAllowlist: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.ipAllowlist).toEqual([]);
    expect((await listKeys(k.key, "198.51.100.7")).status).toBe(200);
  });

  it("an allowlist change published by another isolate wins over the cached record", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    expect((await listKeys(k.key, "198.51.100.7")).status).toBe(200);
    await stubFor(k.id).setPolicy(k.id, { revokedAt: null, expiresAt: null, ipAllowlist: ["203.0.113.0/24"] });
    expectProblem(await listKeys(k.key, "198.51.100.7"), 403, "ip_not_allowed");
  });

  it("expiresAt: 2 s ahead → 401 credential_expired once it passes", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    expect((await listKeys(k.key)).status).toBe(200);
    const expiresAt = new Date(Date.now() + 2_000);
    const patched = await call("PATCH", `/v1/keys/${k.id}`, { key, body: { expiresAt: expiresAt.toISOString() } });
    expect(patched.status).toBe(200);
    expect(patched.body.expiresAt).toBe(expiresAt.toISOString());
    expect((await listKeys(k.key)).status).toBe(200);
    await sleep(Math.max(0, expiresAt.getTime() + 100 - Date.now()));
    const res = await listKeys(k.key);
    expectProblem(res, 401, "credential_expired");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("expiresAt: an expiry can be lifted before it passes", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], expiresAt: new Date(Date.now() + 1_500).toISOString() });
    expect((await listKeys(k.key)).status).toBe(200);
    expect((await call("PATCH", `/v1/keys/${k.id}`, { key, body: { expiresAt: null } })).status).toBe(200);
    await sleep(1_600);
    expect((await listKeys(k.key)).status).toBe(200);
  });

  it("a key created with an expiry stops at it without any PATCH", async () => {
    const { key } = await newTenant();
    const expiresAt = Date.now() + 1_500;
    const k = await newKey(key, { scopes: ["keys:read"], expiresAt: new Date(expiresAt).toISOString() });
    expect((await listKeys(k.key)).status).toBe(200);
    await sleep(Math.max(0, expiresAt + 100 - Date.now()));
    expectProblem(await listKeys(k.key), 401, "credential_expired");
  });

  it("renaming does not disturb the key", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], ipAllowlist: ["203.0.113.0/24"] });
    const name = unique("renamed");
    const patched = await call("PATCH", `/v1/keys/${k.id}`, { key, body: { name } });
    expect(patched.body.name).toBe(name);
    expect(patched.body.ipAllowlist).toEqual(["203.0.113.0/24"]);
    expect((await listKeys(k.key, "203.0.113.1")).status).toBe(200);
    expectProblem(await listKeys(k.key, "198.51.100.1"), 403, "ip_not_allowed");
  });
});

describe("usage", () => {
  it("counts every request by outcome, refused ones too, including the usage request made with the key itself", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"], rateLimits: { read: { limit: 6, windowSeconds: 60 } } });
    const fresh = await call("GET", `/v1/keys/${k.id}/usage`, { key });
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual({ data: [] });

    for (let i = 0; i < 4; i++) expect((await listKeys(k.key)).status).toBe(200);
    expectProblem(await call("POST", "/v1/keys", { key: k.key, body: { name: "x", scopes: ["keys:read"] } }), 403, "insufficient_scope");
    const total = (data: { total: number }[]) => data.reduce((n, p) => n + p.total, 0);
    expect(total((await call("GET", `/v1/keys/${k.id}/usage`, { key })).body.data)).toBe(5);

    // With the key itself: its own answer is counted once it is given, so it shows in the next read.
    expect(total((await call("GET", `/v1/keys/${k.id}/usage`, { key: k.key })).body.data)).toBe(5);
    expect(total((await call("GET", `/v1/keys/${k.id}/usage`, { key })).body.data)).toBe(6);

    // 6 reads admitted in all, then 2 refused: rate-limited requests count as such.
    expect((await listKeys(k.key)).status).toBe(200);
    expectProblem(await listKeys(k.key), 429, "rate_limited");
    expectProblem(await listKeys(k.key), 429, "rate_limited");
    const days: Record<string, number>[] = (await call("GET", `/v1/keys/${k.id}/usage`, { key })).body.data;
    const added = (field: string) => days.reduce((n, p) => n + (p[field] ?? 0), 0);
    expect(["total", "ok", "clientErrors", "rateLimited", "serverErrors"].map(added)).toEqual([9, 6, 1, 2, 0]);
  });

  it("usage of another tenant's key is 404", async () => {
    const a = await newTenant();
    const b = await newTenant();
    expectProblem(await call("GET", `/v1/keys/${a.keyId}/usage`, { key: b.key }), 404, "not_found");
  });

  it("the alarm writes lastUsedAt to D1: the first use after a quiet minute at once, later ones a minute apart", async () => {
    const { key } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    const before = await call("GET", `/v1/keys/${k.id}`, { key });
    expect(before.body.lastUsedAt).toBeNull();
    const stored = async () =>
      (await env.DB.prepare("SELECT last_used_at AS at FROM api_keys WHERE id = ?").bind(k.id).first<{ at: number | null }>())?.at ?? null;

    const start = Date.now();
    for (let i = 0; i < 3; i++) expect((await listKeys(k.key)).status).toBe(200);
    const stub = stubFor(k.id);
    // The runtime may already have run the first use's alarm.
    const first = await eventually(async () => {
      await runDurableObjectAlarm(stub);
      return (await stored()) ?? undefined;
    });
    expect(first).toBeGreaterThanOrEqual(start - 1_000);
    expect(first).toBeLessThanOrEqual(Date.now());
    const after = await call("GET", `/v1/keys/${k.id}`, { key });
    expect(Date.parse(after.body.lastUsedAt)).toBeGreaterThanOrEqual(first);
    // Nothing left to write: the only alarm pending is the dormancy check, 30 days after the last use.
    const lastUsed = await runInDurableObject(stub, async (instance) => (instance as unknown as { lastUsedAt(): number }).lastUsedAt());
    const dormancyCheck = await runInDurableObject(stub, async (_i, state) => state.storage.getAlarm());
    expect(dormancyCheck! - 30 * 86_400_000).toBeGreaterThanOrEqual(lastUsed - 1_000);
    expect(dormancyCheck! - 30 * 86_400_000).toBeLessThanOrEqual(lastUsed + 1_000);

    // ...and the uses after it are batched: nothing is written to D1 per request, the next write waits a minute.
    await sleep(5);
    for (let i = 0; i < 2; i++) expect((await listKeys(k.key)).status).toBe(200);
    const batched = await runInDurableObject(stub, async (_instance, state) => state.storage.getAlarm());
    expect(batched!).toBeGreaterThan(Date.now() + 30_000);
    expect(batched!).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await stored()).toBe(first);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const second = await stored();
    expect(second).toBeGreaterThan(first!);
    // With nothing new, the alarm (run early) writes nothing and keeps the dormancy check.
    await env.DB.prepare("UPDATE api_keys SET last_used_at = 1 WHERE id = ?").bind(k.id).run();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toBe(1);
    const check = await runInDurableObject(stub, async (_i, state) => state.storage.getAlarm());
    expect(check).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it("listing keys shows lastUsedAt after a flush, and the calling key as in use now", async () => {
    const { key, keyId } = await newTenant();
    const k = await newKey(key, { scopes: ["keys:read"] });
    const idle = await newKey(key, { scopes: ["keys:read"] });
    expect((await listKeys(k.key)).status).toBe(200);
    // Its first use reaches D1 at once, without waiting for the minute's batch.
    await eventually(async () => (await call("GET", `/v1/keys/${k.id}`, { key })).body.lastUsedAt ?? undefined);
    const before = Date.now();
    const list = await call("GET", "/v1/keys", { key });
    const entry = list.body.data.find((e: { id: string }) => e.id === k.id);
    expect(entry.lastUsedAt).not.toBeNull();
    expect(list.body.data.find((e: { id: string }) => e.id === idle.id).lastUsedAt).toBeNull();
    // The key the list is read with is being used by this very request, whatever D1's copy says.
    const self = list.body.data.find((e: { id: string }) => e.id === keyId);
    expect(Date.parse(self.lastUsedAt)).toBeGreaterThanOrEqual(before - 1_000);
    expect((await call("GET", `/v1/keys/${keyId}`, { key })).body.lastUsedAt).not.toBeNull();
  });
});
