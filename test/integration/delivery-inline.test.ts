import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { runShardAlarm } from "./data-plane";
import { BASE, call, callWithEnv, deliverySetup, getDelivery, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

const INLINE = { FIRST_ATTEMPT: "inline" };
const publishInline = (key: string, type = "invoice.paid", data: unknown = { amount: 1 }, extra: Record<string, string> = {}) =>
  callWithEnv({ ...INLINE, ...extra }, "POST", "/v1/events", { key, body: { type, data } });

afterEach(() => vi.restoreAllMocks());

describe("first attempt inline", () => {
  it("a healthy endpoint gets its first attempt within the publishing request, with no queue message", async () => {
    const { key, webhookId } = await deliverySetup();
    const queue = await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok", { status: 200 }));
    const published = await publishInline(key);
    expect(published.status).toBe(202);
    expect(endpoint.calls).toHaveLength(1);
    expect(endpoint.calls[0]!.headers.get("x-webhook-attempt")).toBe("1");
    expect(endpoint.calls[0]!.headers.get("x-webhook-event-id")).toBe(published.body.id);
    expect(queue.messages).toEqual([]);
    const delivery = await getDelivery(key, published.body.deliveries[0].id);
    expect(delivery).toMatchObject({ status: "succeeded", attemptCount: 1, webhookId });
    expect(delivery.attempts).toHaveLength(1);
  });

  it("a failed inline attempt is handed to the queue with the schedule's first delay", async () => {
    const { key, tenantId } = await deliverySetup({ tenant: { retrySchedule: [30, 60] } });
    const queue = await stubDeliveryQueue();
    await stubEndpoint(new Response("nope", { status: 500 }));
    const published = await publishInline(key);
    const id = published.body.deliveries[0].id as string;
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]!.body).toEqual({ kind: "attempt", deliveryId: id, tenantId });
    expect(queue.messages[0]!.delaySeconds).toBeGreaterThanOrEqual(30);
    expect(queue.messages[0]!.delaySeconds).toBeLessThanOrEqual(33);
    const delivery = await getDelivery(key, id);
    expect(delivery).toMatchObject({ status: "pending", attemptCount: 1, lastStatusCode: 500 });
    expect(new Date(delivery.nextAttemptAt).getTime() - Date.now()).toBeGreaterThan(25_000);
  });

  it("an attempt claimed inline is never also sent by a queue message or the outbox alarm (either order)", async () => {
    const { key, tenantId } = await deliverySetup();
    const queue = await stubDeliveryQueue();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const endpoint = await stubEndpoint(async () => {
      await held;
      return new Response("ok");
    });
    // Publish without waiting for the inline attempt: it is in flight, holding its claim.
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "invoice.paid", data: { amount: 2 } }),
      }),
      { ...env, ...INLINE } as typeof env,
      ctx,
    );
    const id = ((await res.json()) as { deliveries: { id: string }[] }).deliveries[0]!.id;
    for (let i = 0; i < 50 && endpoint.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(endpoint.calls).toHaveLength(1);
    // A duplicate message arrives while the attempt is in flight: it must not send.
    const whileInFlight = await runDeliveryConsumer([id], "hookgate-deliveries", { due: false });
    expect(whileInFlight.explicitAcks).toHaveLength(1);
    // Nor does the shard's outbox: the inline claim leased the row past the timeout.
    const sentBefore = queue.sent().length;
    await runShardAlarm(tenantId, id);
    expect(
      queue
        .sent()
        .slice(sentBefore)
        .map((m) => m.deliveryId),
    ).not.toContain(id);
    release();
    await waitOnExecutionContext(ctx);
    // And after it settled: the same.
    const after = await runDeliveryConsumer([id], "hookgate-deliveries", { due: false });
    expect(after.explicitAcks).toHaveLength(1);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, id)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("a queue message that won the claim first leaves the inline attempt nothing to send", async () => {
    const { key } = await deliverySetup();
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    // Published with queue-first, then consumed: then an inline runner for the same row finds it claimed.
    const queued = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { amount: 3 } } });
    const id = queued.body.deliveries[0].id as string;
    await runDeliveryConsumer([id]);
    expect(endpoint.calls).toHaveLength(1);
    const again = await runDeliveryConsumer([id]);
    expect(again.explicitAcks).toHaveLength(1);
    expect(endpoint.calls).toHaveLength(1);
  });

  it("beyond a handful of subscriptions the rest go to the queue at once", async () => {
    const { key, types } = await deliverySetup({ tenant: { quotas: { webhooks: 10 } } });
    for (let i = 0; i < 5; i++) {
      expect(
        (await call("POST", "/v1/webhooks", { key, body: { url: `https://hooks.example.com/more-${i}`, eventTypes: types } })).status,
      ).toBe(201);
    }
    const queue = await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    const published = await publishInline(key);
    expect(published.body.deliveries).toHaveLength(6);
    expect(endpoint.calls).toHaveLength(4);
    expect(queue.messages).toHaveLength(2);
    const inline = new Set(endpoint.calls.map((c) => c.url));
    expect(inline.size).toBe(4);
  });

  it("an endpoint that just timed out gets its next first attempts through the queue", async () => {
    const { key, tenantId } = await deliverySetup({ webhook: { url: "https://slow.example.com/hook" } });
    const queue = await stubDeliveryQueue();
    await stubEndpoint(
      (call) =>
        new Promise<Response>((_, reject) =>
          (call.init.signal as AbortSignal).addEventListener("abort", () => reject(new DOMException("timed out", "TimeoutError"))),
        ),
    );
    await publishInline(key, "invoice.paid", { amount: 1 }, { DELIVERY_TIMEOUT_MS: "150" });
    expect(queue.messages).toHaveLength(1); // the timed-out first attempt's retry
    const second = await publishInline(key, "invoice.paid", { amount: 2 }, { DELIVERY_TIMEOUT_MS: "150" });
    expect(queue.messages).toHaveLength(2);
    expect(queue.messages[1]!.body).toEqual({ kind: "attempt", deliveryId: second.body.deliveries[0].id, tenantId });
    expect(queue.messages[1]!.delaySeconds).toBeUndefined();
    expect((await getDelivery(key, second.body.deliveries[0].id)).attemptCount).toBe(0);
  });
});
