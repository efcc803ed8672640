import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { deliveryRow, runShardAlarm } from "./data-plane";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const HOUR = 3_600_000;

/** Runs the governor's alarm as if the clock read `now` (the probe schedule is minutes to days long). */
async function governorTick(webhookId: string, now: number): Promise<void> {
  await runInDurableObject(governorFor(env, webhookId), (instance) =>
    (instance as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(now),
  );
}

/**
 * A subscription whose breaker trips at its 2nd consecutive failure: A fails
 * twice (the trip), B and C were published before it and come up after.
 */
async function tripped() {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ tenant: { breakerThreshold: 2 } });
  const status = { current: 500 };
  const endpoint = await stubEndpoint(() => new Response(status.current < 300 ? "ok" : "down", { status: status.current }));
  const [a, b, c] = [
    (await publishEvent(setup.key, "invoice.paid", { n: "a" })).deliveryIds[0]!,
    (await publishEvent(setup.key, "invoice.paid", { n: "b" })).deliveryIds[0]!,
    (await publishEvent(setup.key, "invoice.paid", { n: "c" })).deliveryIds[0]!,
  ];
  await runDeliveryConsumer([a]);
  const tripAt = Date.now();
  const trip = await runDeliveryConsumer([a]);
  expect(trip.retryMessages, "the tripping attempt is not retried").toEqual([]);
  const webhook = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}`, { key: setup.key })).body;
  const stats = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}/stats`, { key: setup.key })).body;
  const probes = () => queue.sent().filter((m) => m.kind === "probe");
  return { ...setup, queue, endpoint, status, a, b, c, tripAt, webhook, stats, probes };
}

describe("a breaker that heals", () => {
  it("trip: the subscription is disabled, its deliveries are held (pending, no attempt, never repaired), stats show open", async () => {
    const h = await tripped();
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    // The tripping delivery is held, not failed.
    expect(await getDelivery(h.key, h.a)).toMatchObject({ status: "pending", attemptCount: 2, nextAttemptAt: null });
    const stats = await h.stats();
    expect(stats).toMatchObject({ state: "open", disabledReason: "circuit_breaker", consecutiveFailures: 2 });
    const next = Date.parse(stats.nextProbeAt);
    expect(next).toBeGreaterThanOrEqual(h.tripAt + 60_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 60_000);

    // B comes up for its first attempt: held, nothing sent.
    const calls = h.endpoint.calls.length;
    const late = await runDeliveryConsumer([h.b]);
    expect(late.explicitAcks).toEqual(late.ids);
    expect(h.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(h.key, h.b)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });

    // The outbox leaves held rows alone, however long they wait.
    const before = h.queue.sent().length;
    await runShardAlarm(h.tenantId, h.a);
    expect(
      h.queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).not.toContain(h.a);
    expect(
      h.queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).not.toContain(h.b);
    expect((await deliveryRow(h.b))!.next_attempt_at).toBeNull();
  });

  it("probes the oldest held delivery on schedule, doubling after a failed probe; a 2xx closes the breaker and releases the rest in order", async () => {
    const h = await tripped();
    await runDeliveryConsumer([h.c]);
    await runDeliveryConsumer([h.b]);

    // Not yet due: nothing is sent.
    await governorTick(h.webhookId, Date.now() + 30_000);
    expect(h.probes()).toEqual([]);
    // Due: the oldest held delivery (A, the tripping one) goes out as the probe.
    await governorTick(h.webhookId, h.tripAt + 61_000);
    expect(h.probes()).toEqual([{ kind: "probe", deliveryId: h.a, tenantId: h.tenantId }]);
    expect(await h.stats()).toMatchObject({ state: "half_open", nextProbeAt: null });

    // The probe fails: a real, logged attempt; held again; the next wait is twice as long.
    let calls = h.endpoint.calls.length;
    const failedAt = Date.now();
    await runDeliveryConsumer([h.probes()[0]!]);
    expect(h.endpoint.calls).toHaveLength(calls + 1);
    expect(h.endpoint.calls.at(-1)!.headers.get("x-webhook-attempt")).toBe("3");
    expect(h.endpoint.calls.at(-1)!.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const a = await getDelivery(h.key, h.a);
    expect(a).toMatchObject({ status: "pending", attemptCount: 3, nextAttemptAt: null });
    expect(a.attempts).toHaveLength(3);
    let stats = await h.stats();
    expect(stats).toMatchObject({ state: "open", disabledReason: "circuit_breaker", consecutiveFailures: 3 });
    expect(Date.parse(stats.nextProbeAt) - failedAt).toBeGreaterThanOrEqual(120_000 - 1_000);
    expect(Date.parse(stats.nextProbeAt) - Date.now()).toBeLessThanOrEqual(120_000);
    expect(await h.webhook()).toMatchObject({ isEnabled: false });

    // Probes do not use up the schedule: the 5th, 6th attempts are probes too, and A stays held.
    await governorTick(h.webhookId, Date.parse(stats.nextProbeAt) + 1);
    expect(h.probes()).toHaveLength(2);
    await runDeliveryConsumer([h.probes()[1]!]);
    await governorTick(h.webhookId, Date.parse((await h.stats()).nextProbeAt) + 1);
    expect(h.probes()).toHaveLength(3);
    await runDeliveryConsumer([h.probes()[2]!]);
    expect(await getDelivery(h.key, h.a)).toMatchObject({ status: "pending", attemptCount: 5 });
    stats = await h.stats();
    expect(Date.parse(stats.nextProbeAt) - Date.now()).toBeGreaterThan(400_000);

    // The endpoint is back: the next probe succeeds.
    h.status.current = 200;
    await governorTick(h.webhookId, Date.parse(stats.nextProbeAt) + 1);
    const sentBefore = h.queue.sent().length;
    calls = h.endpoint.calls.length;
    await runDeliveryConsumer([h.probes()[3]!]);
    expect(h.endpoint.calls).toHaveLength(calls + 1);
    expect(await getDelivery(h.key, h.a)).toMatchObject({ status: "succeeded", attemptCount: 6 });
    expect(await h.webhook()).toMatchObject({ isEnabled: true, disabledReason: null });
    expect(await h.stats()).toMatchObject({ state: "closed", nextProbeAt: null, consecutiveFailures: 0 });
    // B and C go out in their order (C came up first; B was published first).
    const released = h.queue
      .sent()
      .slice(sentBefore)
      .filter((m) => m.deliveryId === h.b || m.deliveryId === h.c);
    expect(released.map((m) => m.deliveryId)).toEqual([h.b, h.c]);
    expect(released.every((m) => m.kind === "attempt")).toBe(true);
    const audit = await call("GET", "/v1/audit-log?action=webhook.recovered", { key: h.key });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor: "system", target: h.webhookId });
    // Released deliveries are ordinary again: their attempt runs and succeeds.
    await runDeliveryConsumer([h.b, h.c]);
    expect(await getDelivery(h.key, h.b)).toMatchObject({ status: "succeeded", attemptCount: 1 });
    expect(await getDelivery(h.key, h.c)).toMatchObject({ status: "succeeded", attemptCount: 1 });
    // No more probes once closed.
    await governorTick(h.webhookId, Date.now() + 2 * HOUR);
    expect(h.probes()).toHaveLength(4);
  });

  it("a probe that never reports goes out again at once, twice; a third silence counts as failed; the wait never exceeds an hour", async () => {
    const h = await tripped();
    let at = h.tripAt + 61_000;
    let wait = 60_000;
    for (let i = 0; i < 8; i++) {
      await governorTick(h.webhookId, at);
      expect(h.probes()).toHaveLength(3 * i + 1);
      // Lost: each deadline passes with no answer; the first two silences re-send the same probe at once.
      for (let silent = 1; silent <= 2; silent++) {
        at += 10_000 + 61_000;
        await governorTick(h.webhookId, at);
        expect(h.probes()).toHaveLength(3 * i + 1 + silent);
        expect(h.probes().at(-1)!.deliveryId).toBe(h.a);
        expect(await h.stats()).toMatchObject({ state: "half_open", nextProbeAt: null });
      }
      at += 10_000 + 61_000;
      await governorTick(h.webhookId, at);
      wait = Math.min(wait * 2, HOUR);
      const next = Date.parse((await h.stats()).nextProbeAt);
      expect(next - at).toBe(wait);
      at = next;
    }
    expect(wait).toBe(HOUR);
  });

  it("gives up after BREAKER_GIVE_UP_HOURS: probing stops, held deliveries fail", async () => {
    const h = await tripped();
    await runDeliveryConsumer([h.b]);
    await governorTick(h.webhookId, h.tripAt + 72 * HOUR + 1_000);
    expect(h.probes()).toEqual([]);
    expect(await getDelivery(h.key, h.a)).toMatchObject({ status: "failed", attemptCount: 2 });
    expect(await getDelivery(h.key, h.b)).toMatchObject({ status: "failed", attemptCount: 0 });
    expect(await h.stats()).toMatchObject({ state: "open", nextProbeAt: null });
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    // C comes up after give-up: it fails at once, unsent.
    const calls = h.endpoint.calls.length;
    await runDeliveryConsumer([h.c]);
    expect(h.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(h.key, h.c)).toMatchObject({ status: "failed", attemptCount: 0 });
    await governorTick(h.webhookId, h.tripAt + 100 * HOUR);
    expect(h.probes()).toEqual([]);
  });

  it("PATCH isEnabled: false stops the probes; PATCH isEnabled: true releases what was held, oldest first", async () => {
    const h = await tripped();
    await runDeliveryConsumer([h.b]);
    const off = await call("PATCH", `/v1/webhooks/${h.webhookId}`, { key: h.key, body: { isEnabled: false } });
    expect(off.status, off.text).toBe(200);
    expect(off.body).toMatchObject({ isEnabled: false, disabledReason: "manual" });
    expect(await h.stats()).toMatchObject({ state: "open", nextProbeAt: null, disabledReason: "manual" });
    await governorTick(h.webhookId, h.tripAt + 2 * HOUR);
    expect(h.probes()).toEqual([]);
    // A probe message left over from before is not sent to a switched-off subscription.
    const calls = h.endpoint.calls.length;
    await runDeliveryConsumer([{ deliveryId: h.a, tenantId: h.tenantId, probe: true } as never]);
    expect(h.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(h.key, h.a)).toMatchObject({ status: "pending", attemptCount: 2 });

    const sentBefore = h.queue.sent().length;
    const on = await call("PATCH", `/v1/webhooks/${h.webhookId}`, { key: h.key, body: { isEnabled: true } });
    expect(on.status, on.text).toBe(200);
    expect(await h.stats()).toMatchObject({ state: "closed", nextProbeAt: null, consecutiveFailures: 0 });
    expect(
      h.queue
        .sent()
        .slice(sentBefore)
        .map((m) => m.deliveryId),
    ).toEqual([h.a, h.b]);
    expect((await deliveryRow(h.a))!.next_attempt_at).not.toBeNull();
    h.status.current = 200;
    await runDeliveryConsumer([h.a, h.b, h.c]);
    for (const id of [h.a, h.b, h.c]) expect((await getDelivery(h.key, id)).status).toBe("succeeded");
  });

  it("a subscription switched off while healthy holds its deliveries and is never probed", async () => {
    const queue = await stubDeliveryQueue();
    const { key, webhookId, tenantId } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    const d = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { isEnabled: false } });
    await runDeliveryConsumer([d]);
    expect(endpoint.calls).toHaveLength(0);
    expect(await getDelivery(key, d)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
    expect((await call("GET", `/v1/webhooks/${webhookId}/stats`, { key })).body).toMatchObject({ state: "closed", nextProbeAt: null });
    await governorTick(webhookId, Date.now() + 2 * HOUR);
    expect(queue.sent().filter((m) => m.deliveryId === d)).toHaveLength(1);
    // Give-up applies to it too.
    await governorTick(webhookId, Date.now() + 73 * HOUR);
    expect(await getDelivery(key, d)).toMatchObject({ status: "failed", attemptCount: 0 });
    expect(tenantId).toMatch(/^ten_/);
  });

  it("after a 410 the other deliveries are held, never probed, released by PATCH isEnabled: true", async () => {
    const queue = await stubDeliveryQueue();
    const { key, webhookId } = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("gone", { status: 410 }));
    const d = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    const other = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    await runDeliveryConsumer([d]);
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body).toMatchObject({ isEnabled: false, disabledReason: "gone" });
    // The 410 answered that delivery for good.
    expect(await getDelivery(key, d)).toMatchObject({ status: "failed", attemptCount: 1, lastStatusCode: 410 });
    await runDeliveryConsumer([other]);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, other)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
    expect((await call("GET", `/v1/webhooks/${webhookId}/stats`, { key })).body).toMatchObject({ state: "closed", disabledReason: "gone" });
    await governorTick(webhookId, Date.now() + 2 * HOUR);
    expect(queue.sent().filter((m) => m.kind === "probe")).toEqual([]);
    const before = queue.sent().length;
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { isEnabled: true } })).status).toBe(200);
    expect(
      queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).toEqual([other]);
    await governorTick(webhookId, Date.now() + 2 * HOUR);
    expect(queue.sent().filter((m) => m.kind === "probe")).toEqual([]);
  });

  it("deleting the subscription still cancels its pending deliveries, held ones included, and ends the probes", async () => {
    const h = await tripped();
    await runDeliveryConsumer([h.b]);
    const del = await call("DELETE", `/v1/webhooks/${h.webhookId}`, { key: h.key });
    expect(del.status, del.text).toBe(204);
    for (const id of [h.a, h.b, h.c]) expect((await deliveryRow(id))!.status).toBe("cancelled");
    await governorTick(h.webhookId, h.tripAt + 2 * HOUR);
    expect(h.probes()).toEqual([]);
  });

  it("breakerThreshold is an integer 1..10000", async () => {
    const { tenantId } = await deliverySetup();
    for (const bad of [0, 10_001, 2.5, "3"]) {
      const r = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { breakerThreshold: bad } });
      expect(r.status, `${bad}: ${r.text}`).toBe(422);
    }
    for (const good of [1, 10_000]) {
      const r = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { breakerThreshold: good } });
      expect(r.status, r.text).toBe(200);
      expect(r.body.breakerThreshold).toBe(good);
    }
  });

  it("stats of another tenant's subscription are a 404", async () => {
    const h = await tripped();
    const other = await deliverySetup();
    const r = await call("GET", `/v1/webhooks/${h.webhookId}/stats`, { key: other.key });
    expect(r.status).toBe(404);
  });
});
