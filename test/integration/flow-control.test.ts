import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import {
  call,
  deliverySetup,
  expectProblem,
  fieldError,
  getDelivery,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

/** Publishes `n` events (queue stubbed) and returns their delivery ids. */
async function publishMany(key: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(...(await publishEvent(key, "invoice.paid", { amount: i })).deliveryIds);
  return ids;
}

describe("flow control: rateLimit and maxConcurrency", () => {
  it("are stored, shown, changed and validated", async () => {
    const { key, webhookId, webhook } = await deliverySetup({ webhook: { rateLimit: 5, maxConcurrency: 2 } });
    expect(webhook).toMatchObject({ rateLimit: 5, maxConcurrency: 2 });
    const patched = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { rateLimit: null, maxConcurrency: 10 } });
    expect(patched.body).toMatchObject({ rateLimit: null, maxConcurrency: 10 });
    for (const [field, value] of [
      ["rateLimit", 0],
      ["rateLimit", 1001],
      ["maxConcurrency", 0],
      ["maxConcurrency", 101],
      ["rateLimit", 1.5],
    ] as const) {
      const res = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { [field]: value } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, field);
    }
  });

  it("rateLimit: no second ever sees more starts than the limit, and waiting is not an attempt", async () => {
    const { key, webhookId } = await deliverySetup({ webhook: { rateLimit: 2 } });
    await stubDeliveryQueue();
    const starts: number[] = [];
    await stubEndpoint(() => {
      starts.push(Date.now());
      return new Response("ok");
    });
    const ids = await publishMany(key, 6);
    const result = await runDeliveryConsumer(ids);
    expect(result.explicitAcks).toHaveLength(6);
    expect(starts).toHaveLength(6);
    for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(2);
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(1900);
    for (const id of ids) expect(await getDelivery(key, id)).toMatchObject({ status: "succeeded", attemptCount: 1 });
    expect(await governorFor(env, webhookId).inFlight()).toBe(0);
  });

  it("maxConcurrency: never more requests in flight than the limit", async () => {
    const { key } = await deliverySetup({ webhook: { maxConcurrency: 1 } });
    await stubDeliveryQueue();
    let inFlight = 0;
    let peak = 0;
    await stubEndpoint(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 120));
      inFlight--;
      return new Response("ok");
    });
    const ids = await publishMany(key, 3);
    await runDeliveryConsumer(ids);
    expect(peak).toBe(1);
    for (const id of ids) expect(await getDelivery(key, id)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("a long wait goes back to the queue as a fresh message (acked, not retried), neither an attempt nor a breaker count", async () => {
    const { key, webhookId, tenantId } = await deliverySetup({ webhook: { maxConcurrency: 1 }, tenant: { breakerThreshold: 1 } });
    const queue = await stubDeliveryQueue();
    // Another runner holds the only slot for a minute.
    const held = await governorFor(env, webhookId).acquire({ rateLimit: null, maxConcurrency: 1 }, 60_000);
    expect(held.ok).toBe(true);
    const endpoint = await stubEndpoint(new Response("nope", { status: 500 }));
    const [id] = await publishMany(key, 1);
    const before = queue.messages.length;
    const result = await runDeliveryConsumer([id!]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    expect(endpoint.calls).toHaveLength(0);
    expect(queue.messages.slice(before)).toEqual([{ body: { kind: "attempt", deliveryId: id, tenantId }, delaySeconds: 1 }]);
    expect(await getDelivery(key, id!)).toMatchObject({ status: "pending", attemptCount: 0 });
    const stats = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(stats.body).toMatchObject({ consecutiveFailures: 0, state: "closed" });
    // Once the slot is free, the delivery goes out (and, failing, trips the breaker of threshold 1).
    if (held.ok) await governorFor(env, webhookId).release(held.permit);
    await runDeliveryConsumer([id!]);
    expect(endpoint.calls).toHaveLength(1);
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body).toMatchObject({
      isEnabled: false,
      disabledReason: "circuit_breaker",
    });
  });
});
