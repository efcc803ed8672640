import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { ALERTS, alertsOf, deliverToWatcher, HOUR } from "./alert-kit";
import { call, deliverySetup, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const DEGRADED = "hookgate.endpoint.degraded";

/** A tenant whose main endpoint fails (500) and a watcher subscribed to the alerts (and to the breaker's report). */
async function degradable(threshold = 1000) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ tenant: { breakerThreshold: threshold } });
  const watcher = await call("POST", "/v1/webhooks", {
    key: setup.key,
    body: { url: "https://watch.example.com/alerts", eventTypes: [...ALERTS, "hookgate.endpoint.disabled"] },
  });
  expect(watcher.status, watcher.text).toBe(201);
  const endpoint = await stubEndpoint((c) =>
    c.url.startsWith("https://hooks.example.com") ? new Response("down", { status: 500 }) : new Response("ok", { status: 200 }),
  );
  return { ...setup, queue, endpoint, watcherId: watcher.body.id as string };
}

/** Records attempts of the last hour straight into the endpoint's governor: `ok` successes, then `failed` failures. */
async function priorAttempts(webhookId: string, ok: number, failed: number) {
  const governor = governorFor(env, webhookId);
  const at = Date.now() - 10 * 60_000;
  for (let i = 0; i < ok; i++) await governor.record(true, 10000, undefined, 12, at);
  for (let i = 0; i < failed; i++) await governor.record(false, 10000, undefined, 12, at);
}

/** One real attempt to the main endpoint (it answers 500 unless the test says otherwise). */
async function attemptOnce(h: Awaited<ReturnType<typeof degradable>>) {
  const p = await publishEvent(h.key, "invoice.paid");
  const main = (await call("GET", `/v1/events/${p.eventId}`, { key: h.key })).body.deliveries.find(
    (d: { webhookId: string }) => d.webhookId === h.webhookId,
  );
  await runDeliveryConsumer([main.id]);
}

describe("hookgate.endpoint.degraded", { timeout: 60_000 }, () => {
  it("below 90 % success over the last hour with 20 attempts: reported once, delivered to the watcher", async () => {
    const h = await degradable();
    // 17 successes and 2 failures: 19 attempts, too few to judge.
    await priorAttempts(h.webhookId, 17, 2);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toEqual([]);
    // The 20th, a real attempt that fails: 17 of 20 = 85 %.
    await attemptOnce(h);
    const [alert] = await alertsOf(h.key, DEGRADED, h.webhookId);
    expect(alert!.data).toEqual({
      webhookId: h.webhookId,
      url: "https://hooks.example.com/x",
      successRate: 0.85,
      attempts: 20,
      windowSeconds: 3600,
    });
    // The subscription is still enabled: this comes before the breaker.
    expect((await call("GET", `/v1/webhooks/${h.webhookId}`, { key: h.key })).body.isEnabled).toBe(true);
    // Another failure within the hour: no second alert.
    await attemptOnce(h);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toHaveLength(1);
    const received = await deliverToWatcher(h.key, [alert!], h.watcherId, h.endpoint.calls);
    expect(received).toEqual([expect.objectContaining({ id: alert!.id, type: DEGRADED, data: alert!.data })]);
  });

  it("an hour after the last alert, a failure of a still degraded endpoint reports it again", async () => {
    const h = await degradable();
    await priorAttempts(h.webhookId, 17, 2);
    await attemptOnce(h);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toHaveLength(1);
    // The governor's record of the last alert, an hour back.
    await runInDurableObject(governorFor(env, h.webhookId), (_i, state) => {
      state.storage.kv.put("degradedAlertAt", (state.storage.kv.get<number>("degradedAlertAt") ?? 0) - HOUR - 1_000);
    });
    await attemptOnce(h);
    const both = await alertsOf(h.key, DEGRADED, h.webhookId);
    expect(both).toHaveLength(2);
    const second = both.find((e) => e.data.attempts === 21);
    expect(second?.data).toMatchObject({ attempts: 21, successRate: Math.round((17 / 21) * 10_000) / 10_000 });
  });

  it("failures first: the success that makes the 20th attempt, with the rate below 90 %, reports it", async () => {
    const h = await degradable();
    await priorAttempts(h.webhookId, 0, 3);
    await priorAttempts(h.webhookId, 16, 0);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toEqual([]);
    // A delivery to the watcher's endpoint is no attempt of this one: the 20th is a success of the main endpoint.
    await h.endpoint.answerWith(() => new Response("ok", { status: 200 }));
    await attemptOnce(h);
    const [alert] = await alertsOf(h.key, DEGRADED, h.webhookId);
    expect(alert?.data).toMatchObject({ successRate: 0.85, attempts: 20 });
  });

  it("not with fewer than 20 attempts, nor at 90 % or above", async () => {
    const few = await degradable();
    await priorAttempts(few.webhookId, 5, 10);
    await attemptOnce(few);
    expect(await alertsOf(few.key, DEGRADED, few.webhookId)).toEqual([]);

    const fine = await degradable();
    // 18 of 20 = 90 %: not below.
    await priorAttempts(fine.webhookId, 18, 1);
    await attemptOnce(fine);
    expect(await alertsOf(fine.key, DEGRADED, fine.webhookId)).toEqual([]);
  });

  it("attempts older than an hour do not count", async () => {
    const h = await degradable();
    const governor = governorFor(env, h.webhookId);
    const old = Date.now() - 61 * 60_000;
    for (let i = 0; i < 30; i++) await governor.record(false, 10000, undefined, 12, old);
    await priorAttempts(h.webhookId, 18, 0);
    await attemptOnce(h);
    // 18 of 19 in the last hour: too few attempts, and 94.7 %.
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toEqual([]);
  });

  it("the failure that trips the breaker reports the endpoint disabled, not degraded", async () => {
    const h = await degradable(3);
    await priorAttempts(h.webhookId, 17, 2);
    await attemptOnce(h);
    expect((await call("GET", `/v1/webhooks/${h.webhookId}`, { key: h.key })).body.isEnabled).toBe(false);
    expect(await alertsOf(h.key, "hookgate.endpoint.disabled", h.webhookId)).toHaveLength(1);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toEqual([]);
  });

  it("another tenant sees nothing of it", async () => {
    const h = await degradable();
    const other = await deliverySetup();
    await priorAttempts(h.webhookId, 17, 2);
    await attemptOnce(h);
    expect(await alertsOf(h.key, DEGRADED, h.webhookId)).toHaveLength(1);
    const r = await call("GET", `/v1/events?type=${DEGRADED}&limit=100`, { key: other.key });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data).toEqual([]);
  });
});
