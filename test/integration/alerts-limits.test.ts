import { afterEach, describe, expect, it, vi } from "vitest";
import { RECONCILE_EVERY_MS } from "../../src/ratelimit/approximate/isolate-limiter";
import { ALERTS, alertsOf, awaitAlerts, deliverToWatcher, gateOf, HOUR, rewindAlerts, watchedTenant } from "./alert-kit";
import { call, expectProblem, newKey, newOperatorEndpoint, sleep, stubDeliveryQueue, stubEndpoint, tokenRequest } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const READ_10 = { read: { limit: 10, windowSeconds: 60 } };
const whoami = (key: string) => call("GET", "/v1/whoami", { key });

/** A watched tenant and a key of it limited to 10 reads a minute. */
async function limitedKey() {
  const queue = await stubDeliveryQueue();
  const endpoint = await stubEndpoint(() => new Response("ok", { status: 200 }));
  const t = await watchedTenant();
  const k = await newKey(t.key, { scopes: ["keys:read"], rateLimits: READ_10 });
  return { ...t, queue, endpoint, k };
}

describe("hookgate.credential.limit_approaching", { timeout: 30_000 }, () => {
  it("fires when a bucket passes 80 % of its limit within a window, once; delivered to the watcher", async () => {
    const h = await limitedKey();
    for (let i = 0; i < 7; i++) expect((await whoami(h.k.key)).status).toBe(200);
    // 70 %: nothing (the 8th request is the first at 80 %).
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", h.k.id)).toEqual([]);
    expect((await whoami(h.k.key)).status).toBe(200);
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.limit_approaching", h.k.id);
    expect(alert!.data).toEqual({ credentialId: h.k.id, bucket: "read", limit: 10, used: 8, windowSeconds: 60 });
    // The 9th and 10th are past 80 % too: no second alert.
    for (let i = 0; i < 2; i++) expect((await whoami(h.k.key)).status).toBe(200);
    const received = await deliverToWatcher(h.key, [alert!], h.watcherId, h.endpoint.calls);
    expect(received).toEqual([
      expect.objectContaining({ id: alert!.id, type: "hookgate.credential.limit_approaching", data: alert!.data }),
    ]);
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", h.k.id)).toHaveLength(1);
  });

  it("a key that stays below 80 % never fires, while another key of the tenant does", async () => {
    const h = await limitedKey();
    const quiet = await newKey(h.key, { scopes: ["keys:read"], rateLimits: READ_10 });
    for (let i = 0; i < 7; i++) expect((await whoami(quiet.key)).status).toBe(200);
    // Another credential of the tenant crossing the line makes the quiet one's absence meaningful.
    for (let i = 0; i < 8; i++) expect((await whoami(h.k.key)).status).toBe(200);
    await awaitAlerts(h.key, "hookgate.credential.limit_approaching", h.k.id);
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", quiet.id)).toEqual([]);
  });
});

describe("limit_approaching in the approximate limit mode", { timeout: 30_000 }, () => {
  it("the object raises it when the isolates' reported spending leaves the bucket 80 % used", async () => {
    const h = await limitedKey();
    const window = READ_10.read;
    const reconcile = (cost: number) =>
      gateOf(h.k.id).reconcile({ credentialId: h.k.id, policy: null, spends: [{ key: "read:10:60", window, cost, requests: cost }] });
    await reconcile(7);
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", h.k.id)).toEqual([]);
    await reconcile(1);
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.limit_approaching", h.k.id);
    expect(alert!.data).toEqual({ credentialId: h.k.id, bucket: "read", limit: 10, used: 8, windowSeconds: 60 });
    await reconcile(5);
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", h.k.id)).toHaveLength(1);
  });
});

describe("rate_limited in the approximate limit mode", { timeout: 30_000 }, () => {
  it("the object raises it when an isolate reports requests it refused, once an hour; admitted spending alone never does", async () => {
    const h = await limitedKey();
    const window = READ_10.read;
    const reconcile = (cost: number, refused: number) =>
      gateOf(h.k.id).reconcile({
        credentialId: h.k.id,
        policy: null,
        spends: [{ key: "read:10:60", window, cost, requests: cost, refused }],
      });
    await reconcile(10, 0);
    await awaitAlerts(h.key, "hookgate.credential.limit_approaching", h.k.id);
    expect(await alertsOf(h.key, "hookgate.credential.rate_limited", h.k.id)).toEqual([]);
    await reconcile(0, 3);
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.rate_limited", h.k.id);
    expect(alert!.data).toEqual({ credentialId: h.k.id, bucket: "read", limit: 10, windowSeconds: 60 });
    await reconcile(0, 2);
    expect(await alertsOf(h.key, "hookgate.credential.rate_limited", h.k.id)).toHaveLength(1);
  });

  it("through /admin/verify: the isolate refuses, and its next reconciliation carries the refusal", async () => {
    const h = await limitedKey();
    expect((await call("PATCH", `/admin/tenants/${h.tenantId}`, { admin: true, body: { limitMode: "approximate" } })).status).toBe(200);
    const verify = async () => (await call("POST", "/admin/verify", { admin: true, body: { credential: h.k.key } })).body;
    for (let i = 0; i < 10; i++) expect(await verify()).toMatchObject({ valid: true });
    expect(await verify()).toMatchObject({ valid: false, code: "rate_limited" });
    // The refusal stays in the isolate until its next reconciliation, which a request starts once 500 ms have passed.
    await sleep(RECONCILE_EVERY_MS + 100);
    expect(await verify()).toMatchObject({ valid: false, code: "rate_limited" });
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.rate_limited", h.k.id);
    expect(alert!.data).toMatchObject({ credentialId: h.k.id, bucket: "read" });
  });
});

describe("hookgate.credential.rate_limited", { timeout: 30_000 }, () => {
  it("fires at the first 429 of a window, not at the next ones, and again an hour later", async () => {
    const h = await limitedKey();
    for (let i = 0; i < 10; i++) expect((await whoami(h.k.key)).status).toBe(200);
    expect(await alertsOf(h.key, "hookgate.credential.rate_limited", h.k.id)).toEqual([]);
    expectProblem(await whoami(h.k.key), 429, "rate_limited");
    const [first] = await awaitAlerts(h.key, "hookgate.credential.rate_limited", h.k.id);
    expect(first!.data).toEqual({ credentialId: h.k.id, bucket: "read", limit: 10, windowSeconds: 60 });
    for (let i = 0; i < 3; i++) expectProblem(await whoami(h.k.key), 429, "rate_limited");
    // limit_approaching fired on the way up, once.
    expect(await alertsOf(h.key, "hookgate.credential.limit_approaching", h.k.id)).toHaveLength(1);

    // An hour on (the object's clock of last alerts moved back by an hour), the next 429 is reported again.
    await rewindAlerts(h.k.id, HOUR + 1_000);
    expectProblem(await whoami(h.k.key), 429, "rate_limited");
    const both = await awaitAlerts(h.key, "hookgate.credential.rate_limited", h.k.id, 2);
    expect(both).toHaveLength(2);
    // Only the last was a new one: two alerts, each delivered once.
    const received = await deliverToWatcher(h.key, both, h.watcherId, h.endpoint.calls);
    expect(received.map((b) => b.type)).toEqual(["hookgate.credential.rate_limited", "hookgate.credential.rate_limited"]);
  });

  it("an OAuth client's token requests: the token bucket's 429 is reported for the client", async () => {
    const h = await limitedKey();
    const created = await call("POST", "/v1/oauth-clients", { key: h.key, body: { name: "svc", scopes: ["keys:read"] } });
    expect(created.status, created.text).toBe(201);
    const token = () => tokenRequest({ grant_type: "client_credentials", client_id: created.body.id, client_secret: "wrong" });
    let limited = false;
    for (let i = 0; i < 25 && !limited; i++) limited = (await token()).status === 429;
    expect(limited).toBe(true);
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.rate_limited", created.body.id);
    expect(alert!.data).toMatchObject({ credentialId: created.body.id, bucket: "token" });
  });
});

describe("whose alerts", { timeout: 30_000 }, () => {
  it("a tenant sees only its own credentials' alerts; the operator's endpoint listing them gets them", async () => {
    const a = await limitedKey();
    const b = await watchedTenant();
    const ops = await newOperatorEndpoint({ eventTypes: ["hookgate.credential.rate_limited"], tenantIds: [a.tenantId] });
    for (let i = 0; i < 10; i++) expect((await whoami(a.k.key)).status).toBe(200);
    expectProblem(await whoami(a.k.key), 429, "rate_limited");
    const [alert] = await awaitAlerts(a.key, "hookgate.credential.rate_limited", a.k.id);
    // B's stream holds nothing about A's key, and the event is not B's to read.
    expect(await alertsOf(b.key, "hookgate.credential.rate_limited", a.k.id)).toEqual([]);
    expectProblem(await call("GET", `/v1/events/${alert!.id}`, { key: b.key }), 404, "not_found");
    const bEvents = await call("GET", "/v1/events?limit=100", { key: b.key });
    expect(bEvents.body.data.filter((e: { type: string }) => ALERTS.includes(e.type))).toEqual([]);
    // The operator's endpoint for A lists the type: it has a delivery of it.
    const listed = await call("GET", `/admin/deliveries?webhookId=${ops.id}&limit=100`, { admin: true });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((d: { eventId: string }) => d.eventId)).toContain(alert!.id);
  });

  it('a subscription listing no alert gets none; a ["*"] subscription gets none either', async () => {
    const h = await limitedKey();
    const star = await call("POST", "/v1/webhooks", { key: h.key, body: { url: "https://star.example.com/", eventTypes: ["*"] } });
    expect(star.status, star.text).toBe(201);
    for (let i = 0; i < 10; i++) expect((await whoami(h.k.key)).status).toBe(200);
    const [alert] = await awaitAlerts(h.key, "hookgate.credential.limit_approaching", h.k.id);
    const event = await call("GET", `/v1/events/${alert!.id}`, { key: h.key });
    expect(event.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([h.watcherId]);
  });
});
