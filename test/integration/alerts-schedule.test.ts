import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { alertsOf, alertTick, awaitAlerts, DAY, deliverToWatcher, gateOf, HOUR, watchedTenant } from "./alert-kit";
import { call, flushCredentialUsage, newKey, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const EXPIRING = "hookgate.credential.expiring";
const DORMANT = "hookgate.credential.dormant";

async function watched() {
  const queue = await stubDeliveryQueue();
  const endpoint = await stubEndpoint(() => new Response("ok", { status: 200 }));
  return { ...(await watchedTenant()), queue, endpoint };
}

/** When the gate's alarm is set for (ms), or null. */
const alarmOf = (credentialId: string) => runInDurableObject(gateOf(credentialId), (_i, state) => state.storage.getAlarm());

describe("hookgate.credential.expiring", { timeout: 30_000 }, () => {
  it("a key created 3 days before its expiry hears of it at once (its alarm is due now), once; the 1-day notice follows", async () => {
    const h = await watched();
    const expiresAt = new Date(Date.now() + 3 * DAY);
    const k = await newKey(h.key, { scopes: ["keys:read"], expiresAt: expiresAt.toISOString() });
    // Due within the minute: the alarm is set for now (the runtime may already have run it).
    const due = await alarmOf(k.id);
    if (due !== null) {
      expect(due).toBeLessThanOrEqual(Date.now() + 60_000);
      await runDurableObjectAlarm(gateOf(k.id));
    }
    const [notice] = await awaitAlerts(h.key, EXPIRING, k.id);
    expect(notice!.data).toEqual({ credentialId: k.id, expiresAt: expiresAt.toISOString() });
    // The next look is the 1-day notice.
    expect(await alarmOf(k.id)).toBe(expiresAt.getTime() - DAY);
    await alertTick(k.id, Date.now() + HOUR * 2);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(1);
    await alertTick(k.id, expiresAt.getTime() - DAY + 1_000);
    const both = await awaitAlerts(h.key, EXPIRING, k.id, 2);
    expect(both.map((e) => e.data)).toEqual([notice!.data, notice!.data]);
    // Nothing more before the expiry; none after it either.
    await alertTick(k.id, expiresAt.getTime() - 1_000);
    await alertTick(k.id, expiresAt.getTime() + 1_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(2);
    const received = await deliverToWatcher(h.key, both, h.watcherId, h.endpoint.calls);
    expect(received.map((b) => [b.type, b.data])).toEqual([
      [EXPIRING, notice!.data],
      [EXPIRING, notice!.data],
    ]);
  });

  it("far from expiry nothing fires; the alarm waits for the 7-day notice; at most one notice an hour", async () => {
    const h = await watched();
    const created = Date.now();
    const expiresAt = created + 30 * DAY;
    const k = await newKey(h.key, { scopes: ["keys:read"], expiresAt: new Date(expiresAt).toISOString() });
    expect(await alarmOf(k.id)).toBe(expiresAt - 7 * DAY);
    await alertTick(k.id, expiresAt - 8 * DAY);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toEqual([]);
    // Run late, inside the last day: one notice (the 1-day one), not two.
    await alertTick(k.id, expiresAt - DAY + 1_000);
    await alertTick(k.id, expiresAt - DAY + 2_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(1);
  });

  it("a 7-day notice, then the 1-day one waits until an hour has passed since it", async () => {
    const h = await watched();
    const now = Date.now();
    const expiresAt = now + DAY + 30 * 60_000;
    const k = await newKey(h.key, { scopes: ["keys:read"], expiresAt: new Date(expiresAt).toISOString() });
    await alertTick(k.id, now + 1_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(1);
    // The 1-day window opens 30 min later, inside the hour: it waits.
    await alertTick(k.id, now + 31 * 60_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(1);
    await alertTick(k.id, now + HOUR + 2_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(2);
  });

  it("a PATCH that moves the expiry inside a window: a notice within the minute, for the new expiry", async () => {
    const h = await watched();
    const k = await newKey(h.key, { scopes: ["keys:read"] });
    await alertTick(k.id, Date.now());
    expect(await alertsOf(h.key, EXPIRING, k.id)).toEqual([]);
    const expiresAt = new Date(Date.now() + 2 * DAY).toISOString();
    const patched = await call("PATCH", `/v1/keys/${k.id}`, { key: h.key, body: { expiresAt } });
    expect(patched.status, patched.text).toBe(200);
    const due = await alarmOf(k.id);
    if (due !== null && due <= Date.now() + 60_000) await runDurableObjectAlarm(gateOf(k.id));
    const [notice] = await awaitAlerts(h.key, EXPIRING, k.id);
    expect(notice!.data).toEqual({ credentialId: k.id, expiresAt });
  });

  it("a revoked key gets no notice", async () => {
    const h = await watched();
    const expiresAt = Date.now() + 5 * DAY;
    const k = await newKey(h.key, { scopes: ["keys:read"], expiresAt: new Date(expiresAt).toISOString() });
    expect((await call("DELETE", `/v1/keys/${k.id}`, { key: h.key })).status).toBe(204);
    await alertTick(k.id, expiresAt - 2 * DAY);
    await alertTick(k.id, expiresAt - 1_000);
    // A notice raised before the DELETE (the create's own) may exist; none after.
    const before = (await alertsOf(h.key, EXPIRING, k.id)).length;
    expect(before).toBeLessThanOrEqual(1);
    await alertTick(k.id, expiresAt - DAY + 1_000);
    expect(await alertsOf(h.key, EXPIRING, k.id)).toHaveLength(before);
  });

  it("an OAuth client created inside the 7-day window is noticed too", async () => {
    const h = await watched();
    const expiresAt = new Date(Date.now() + 6 * DAY).toISOString();
    const c = await call("POST", "/v1/oauth-clients", { key: h.key, body: { name: "svc", scopes: ["keys:read"], expiresAt } });
    expect(c.status, c.text).toBe(201);
    await alertTick(c.body.id, Date.now() + 1_000);
    const [notice] = await awaitAlerts(h.key, EXPIRING, c.body.id);
    expect(notice!.data).toEqual({ credentialId: c.body.id, expiresAt });
  });
});

describe("hookgate.credential.dormant", { timeout: 30_000 }, () => {
  it("a key never used: 30 days after its creation, lastUsedAt null, once", async () => {
    const h = await watched();
    const before = Date.now();
    const k = await newKey(h.key, { scopes: ["keys:read"] });
    const created = Date.parse(k.body.createdAt);
    expect(created).toBeGreaterThanOrEqual(before - 1_000);
    // The alarm waits for the dormancy check (nothing scans for it).
    const due = await alarmOf(k.id);
    expect(Math.abs(due! - (created + 30 * DAY))).toBeLessThanOrEqual(1_000);
    await alertTick(k.id, created + 30 * DAY - 60_000);
    expect(await alertsOf(h.key, DORMANT, k.id)).toEqual([]);
    await alertTick(k.id, created + 30 * DAY + 1_000);
    const [alert] = await awaitAlerts(h.key, DORMANT, k.id);
    expect(alert!.data).toEqual({ credentialId: k.id, lastUsedAt: null });
    // Still unused days later: not again.
    await alertTick(k.id, created + 40 * DAY);
    expect(await alertsOf(h.key, DORMANT, k.id)).toHaveLength(1);
    const received = await deliverToWatcher(h.key, [alert!], h.watcherId, h.endpoint.calls);
    expect(received).toEqual([expect.objectContaining({ type: DORMANT, data: alert!.data })]);
  });

  it("a used key: 30 days after its last use; used again, the count starts over", async () => {
    const h = await watched();
    const k = await newKey(h.key, { scopes: ["keys:read"] });
    expect((await call("GET", "/v1/whoami", { key: k.key })).status).toBe(200);
    await flushCredentialUsage(k.id);
    const lastUsedAt = (await call("GET", `/v1/keys/${k.id}`, { key: h.key })).body.lastUsedAt as string;
    const used = Date.parse(lastUsedAt);
    await alertTick(k.id, used + 29 * DAY);
    expect(await alertsOf(h.key, DORMANT, k.id)).toEqual([]);
    await alertTick(k.id, used + 30 * DAY + 1_000);
    const [alert] = await awaitAlerts(h.key, DORMANT, k.id);
    expect(Math.abs(Date.parse(alert!.data.lastUsedAt as string) - used)).toBeLessThanOrEqual(1_000);
    // Used again (now): a new stretch, counted from this use.
    expect((await call("GET", "/v1/whoami", { key: k.key })).status).toBe(200);
    await flushCredentialUsage(k.id);
    const again = Date.parse((await call("GET", `/v1/keys/${k.id}`, { key: h.key })).body.lastUsedAt);
    await alertTick(k.id, again + 10 * DAY);
    expect(await alertsOf(h.key, DORMANT, k.id)).toHaveLength(1);
    // (A day past the 30, so the hour since the last dormancy alert, on this test's clock, has passed too.)
    await alertTick(k.id, again + 31 * DAY);
    expect(await awaitAlerts(h.key, DORMANT, k.id, 2)).toHaveLength(2);
  });

  it("an expired or revoked key is not reported dormant", async () => {
    const h = await watched();
    const expiresAt = Date.now() + 10 * DAY;
    const expiring = await newKey(h.key, { scopes: ["keys:read"], expiresAt: new Date(expiresAt).toISOString() });
    const revoked = await newKey(h.key, { scopes: ["keys:read"] });
    expect((await call("DELETE", `/v1/keys/${revoked.id}`, { key: h.key })).status).toBe(204);
    await alertTick(expiring.id, Date.now() + 31 * DAY);
    await alertTick(revoked.id, Date.now() + 31 * DAY);
    expect(await alertsOf(h.key, DORMANT, expiring.id)).toEqual([]);
    expect(await alertsOf(h.key, DORMANT, revoked.id)).toEqual([]);
  });

  it("another tenant never sees them", async () => {
    const h = await watched();
    const other = await watchedTenant();
    const k = await newKey(h.key, { scopes: ["keys:read"] });
    await alertTick(k.id, Date.now() + 31 * DAY);
    await awaitAlerts(h.key, DORMANT, k.id);
    const r = await call("GET", `/v1/events?type=${DORMANT}&limit=100`, { key: other.key });
    expect(r.body.data).toEqual([]);
  });
});
