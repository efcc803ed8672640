import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { runShardAlarm, shardOf, updateDelivery } from "./data-plane";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

/**
 * The breaker's probe against the at-least-once promise: a probe whose run
 * dies is sent again promptly and as the probe, without the wait doubling
 * (no answer is no failure); a delivery that comes up between the governor
 * closing the breaker and the subscription's row saying so goes out.
 */

afterEach(() => vi.restoreAllMocks());

/** Runs the governor's alarm as if the clock read `now`. */
async function governorTick(webhookId: string, now: number): Promise<void> {
  await runInDurableObject(governorFor(env, webhookId), (instance) =>
    (instance as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(now),
  );
}

/** Tripped at A's 2nd failure, B published before it; the first probe (A) is out. */
async function probing() {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ tenant: { breakerThreshold: 2 } });
  const status = { current: 500 };
  const endpoint = await stubEndpoint(() => new Response(status.current < 300 ? "ok" : "down", { status: status.current }));
  const a = (await publishEvent(setup.key, "invoice.paid", { n: "a" })).deliveryIds[0]!;
  const b = (await publishEvent(setup.key, "invoice.paid", { n: "b" })).deliveryIds[0]!;
  await runDeliveryConsumer([a]);
  const tripAt = Date.now();
  await runDeliveryConsumer([a]);
  const probes = () => queue.sent().filter((m) => m.kind === "probe");
  const probeAt = tripAt + 61_000;
  await governorTick(setup.webhookId, probeAt);
  expect(probes()).toEqual([{ kind: "probe", deliveryId: a, tenantId: setup.tenantId }]);
  const webhook = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}`, { key: setup.key })).body;
  const stats = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}/stats`, { key: setup.key })).body;
  return { ...setup, queue, endpoint, status, a, b, probeAt, probes, webhook, stats };
}

/** The probe's run claims its attempt and dies; time passes until its lease ran out `agoMs` ago. */
async function diedMidAttempt(tenantId: string, id: string, attemptsSoFar: number, agoMs: number) {
  const now = Date.now();
  expect(await shardOf(tenantId, id).claim(id, attemptsSoFar, new Date(now), new Date(now + 40_000))).toBe(true);
  await updateDelivery(id, "next_attempt_at = ?", now - agoMs);
}

describe("a probe whose run never reported", () => {
  it("the shard's repair re-sends it: it goes out as the probe (not held), and a 2xx closes the breaker", async () => {
    const p = await probing();
    const before = p.queue.sent().length;
    await diedMidAttempt(p.tenantId, p.a, 2, 31_000);
    // The shard's alarm (its outbox) repairs the row.
    await runShardAlarm(p.tenantId, p.a);
    const repaired = p.queue
      .sent()
      .slice(before)
      .filter((m) => m.deliveryId === p.a);
    expect(repaired).toEqual([{ kind: "attempt", deliveryId: p.a, tenantId: p.tenantId }]);

    p.status.current = 200;
    const calls = p.endpoint.calls.length;
    await runDeliveryConsumer(repaired, "hookgate-deliveries", { due: false });
    expect(p.endpoint.calls).toHaveLength(calls + 1);
    expect(p.endpoint.calls.at(-1)!.headers.get("x-webhook-attempt")).toBe("4");
    expect(await getDelivery(p.key, p.a)).toMatchObject({ status: "succeeded", attemptCount: 4 });
    expect(await p.webhook()).toMatchObject({ isEnabled: true, disabledReason: null });
  });

  it("a repaired probe that fails waits twice the first wait, not four times", async () => {
    const p = await probing();
    const before = p.queue.sent().length;
    await diedMidAttempt(p.tenantId, p.a, 2, 31_000);
    // The shard's alarm (its outbox) repairs the row.
    await runShardAlarm(p.tenantId, p.a);
    const repaired = p.queue
      .sent()
      .slice(before)
      .filter((m) => m.deliveryId === p.a);
    expect(repaired).toEqual([{ kind: "attempt", deliveryId: p.a, tenantId: p.tenantId }]);
    const failedAt = Date.now();
    await runDeliveryConsumer(repaired, "hookgate-deliveries", { due: false });
    expect(await getDelivery(p.key, p.a)).toMatchObject({ status: "pending", attemptCount: 4, nextAttemptAt: null });
    const stats = await p.stats();
    expect(stats).toMatchObject({ state: "open" });
    expect(Date.parse(stats.nextProbeAt) - failedAt).toBeGreaterThanOrEqual(120_000 - 1_000);
    expect(Date.parse(stats.nextProbeAt) - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it("the governor's deadline passes with no answer: the same probe goes out again at once, the wait not doubled", async () => {
    const p = await probing();
    await diedMidAttempt(p.tenantId, p.a, 2, 31_000);
    // Deadline: the delivery timeout (10 s) and a minute past the probe.
    await governorTick(p.webhookId, p.probeAt + 71_000);
    expect(p.probes()).toEqual([
      { kind: "probe", deliveryId: p.a, tenantId: p.tenantId },
      { kind: "probe", deliveryId: p.a, tenantId: p.tenantId },
    ]);
    expect(await p.stats()).toMatchObject({ state: "half_open", nextProbeAt: null });

    const failedAt = Date.now();
    await runDeliveryConsumer([p.probes()[1]!], "hookgate-deliveries", { due: false });
    expect(await getDelivery(p.key, p.a)).toMatchObject({ status: "pending", attemptCount: 4, nextAttemptAt: null });
    const stats = await p.stats();
    expect(Date.parse(stats.nextProbeAt) - failedAt).toBeGreaterThanOrEqual(120_000 - 1_000);
    expect(Date.parse(stats.nextProbeAt) - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it("a probe message that comes again after its probe reported is held, not a second attempt", async () => {
    const p = await probing();
    const probe = p.probes()[0]!;
    await runDeliveryConsumer([probe], "hookgate-deliveries", { due: false });
    const next = (await p.stats()).nextProbeAt;
    const calls = p.endpoint.calls.length;
    // The queue delivers the same probe again (at least once): the governor no longer has it out.
    const again = await runDeliveryConsumer([probe], "hookgate-deliveries", { due: false });
    expect(again.explicitAcks).toEqual(again.ids);
    expect(p.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(p.key, p.a)).toMatchObject({ status: "pending", attemptCount: 3, nextAttemptAt: null });
    expect((await p.stats()).nextProbeAt).toBe(next);
  });
});

/** Wraps the next stub `namespace` hands out so that, once `method` has returned, `after` runs (once). */
function afterOnce(namespace: unknown, method: string, after: () => Promise<unknown>) {
  const ns = namespace as { get(id: DurableObjectId): object };
  const get = ns.get.bind(ns);
  const spy = vi.spyOn(ns, "get").mockImplementation((id: DurableObjectId) => {
    const stub = get(id) as Record<PropertyKey, (...a: unknown[]) => unknown>;
    return new Proxy(stub, {
      get: (target, prop) => {
        const call = (...args: unknown[]) => target[prop]!(...args);
        if (prop !== method) return typeof Reflect.get(target, prop) === "function" ? call : Reflect.get(target, prop);
        return async (...args: unknown[]) => {
          spy.mockRestore();
          const result = await call(...args);
          await after();
          return result;
        };
      },
    });
  });
}

describe("a delivery that comes up as the breaker closes", () => {
  it("between the governor ending the hold and the row being enabled: it goes out, no new hold, no second recovery", async () => {
    const p = await probing();
    p.status.current = 200;
    let during: Awaited<ReturnType<typeof getDelivery>> | undefined;
    afterOnce(env.ENDPOINT_GOVERNOR, "recover", async () => {
      expect((await p.webhook()).isEnabled, "the row still says disabled").toBe(false);
      await runDeliveryConsumer([p.b]);
      during = await getDelivery(p.key, p.b);
    });
    await runDeliveryConsumer([p.probes()[0]!], "hookgate-deliveries", { due: false });
    expect(during).toMatchObject({ status: "succeeded", attemptCount: 1 });
    expect(await p.webhook()).toMatchObject({ isEnabled: true, disabledReason: null });
    expect(await p.stats()).toMatchObject({ state: "closed", nextProbeAt: null, consecutiveFailures: 0 });
    // Nothing is held any more: no probe, no second `webhook.recovered`.
    await governorTick(p.webhookId, Date.now() + 2 * 3_600_000);
    expect(p.probes()).toHaveLength(1);
    const audit = await call("GET", "/v1/audit-log?action=webhook.recovered", { key: p.key });
    expect(audit.body.data).toHaveLength(1);
  });

  it("a breaker still open holds it as before", async () => {
    const p = await probing();
    const calls = p.endpoint.calls.length;
    await runDeliveryConsumer([p.b]);
    expect(p.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(p.key, p.b)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
  });
});
