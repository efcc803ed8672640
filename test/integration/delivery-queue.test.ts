import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deliveryRow } from "./data-plane";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A tenant + webhook, the queue stubbed, and one published event's delivery. */
async function oneDelivery(opts: Parameters<typeof deliverySetup>[0] = {}) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup(opts);
  const { deliveryIds, eventId } = await publishEvent(setup.key, "invoice.paid");
  return { ...setup, queue, deliveryId: deliveryIds[0]!, eventId };
}

async function dbDelivery(id: string) {
  return (await deliveryRow(id)) as { status: string; attempts: number; next_attempt_at: number | null; last_status_code: number | null };
}

/** One consumer run that must end in a single retry; returns its delay. */
async function expectRetry(deliveryId: string): Promise<number> {
  const r = await runDeliveryConsumer([deliveryId]);
  expect(r.explicitAcks).toEqual([]);
  expect(r.retryMessages).toHaveLength(1);
  expect(r.retryMessages[0]!.msgId).toBe(r.ids[0]);
  return r.retryMessages[0]!.delaySeconds!;
}

/** One consumer run that must ack without retrying. */
async function expectAck(deliveryId: string | { deliveryId: string; manual?: boolean }) {
  const r = await runDeliveryConsumer([deliveryId]);
  expect(r.retryMessages).toEqual([]);
  expect(r.explicitAcks).toEqual(r.ids);
  return r;
}

describe("an idempotent consumer", () => {
  it("acks a message for a succeeded delivery without calling fetch", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(1);
    await expectAck(deliveryId);
    await expectAck({ deliveryId, manual: true });
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("a delivery of a subscription a 410 disabled is held (pending, no fetch), and sent once it is enabled again", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    const other = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    const endpoint = await stubEndpoint(new Response("", { status: 410 }));
    await expectAck(other);
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "pending", attemptCount: 0 });
    // Re-enabled: the held delivery goes out, once.
    await endpoint.answerWith(new Response("ok"));
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { isEnabled: true } })).status).toBe(200);
    await expectAck(deliveryId);
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(2);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("acks a message for an unknown delivery", async () => {
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck("dlv_doesnotexist0000000");
    expect(endpoint.calls).toHaveLength(0);
  });

  it("two copies of one message in the same batch send exactly once", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 30));
      return new Response("ok");
    });
    const r = await runDeliveryConsumer([deliveryId, deliveryId]);
    expect(r.retryMessages).toEqual([]);
    expect(r.explicitAcks.sort()).toEqual([...r.ids].sort());
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("two concurrent consumer invocations with one message send exactly once", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 30));
      return new Response("ok");
    });
    const [a, b] = await Promise.all([runDeliveryConsumer([deliveryId]), runDeliveryConsumer([deliveryId])]);
    expect([...a.explicitAcks, ...b.explicitAcks].sort()).toEqual([...a.ids, ...b.ids].sort());
    expect(endpoint.calls).toHaveLength(1);
    const d = await getDelivery(key, deliveryId);
    expect(d).toMatchObject({ status: "succeeded", attemptCount: 1 });
    expect(d.attempts).toHaveLength(1);
  });

  it("two concurrent copies of a failing delivery make one attempt and one retry", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(async () => {
      await new Promise((r) => setTimeout(r, 30));
      return new Response("", { status: 500 });
    });
    const [a, b] = await Promise.all([runDeliveryConsumer([deliveryId]), runDeliveryConsumer([deliveryId])]);
    expect(endpoint.calls).toHaveLength(1);
    expect([...a.retryMessages, ...b.retryMessages]).toHaveLength(1);
    expect([...a.explicitAcks, ...b.explicitAcks]).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "pending", attemptCount: 1 });
  });

  it("a subscription disabled between publish and consume: held (pending), no fetch", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    const off = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { isEnabled: false } });
    expect(off.status, off.text).toBe(200);
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(0);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "pending", attemptCount: 0 });
  });

  it("a subscription deleted between publish and consume: cancelled, no fetch", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    expect((await call("DELETE", `/v1/webhooks/${webhookId}`, { key })).status).toBe(204);
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(0);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "cancelled", attemptCount: 0 });
  });

  it("a subscription deleted while an attempt is in flight: the failed attempt does not revive the delivery", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inFlight = new Promise<void>((r) => (started = r));
    const endpoint = await stubEndpoint(async () => {
      started();
      await gate;
      return new Response("", { status: 500 });
    });
    const running = runDeliveryConsumer([deliveryId]);
    await inFlight;
    expect((await call("DELETE", `/v1/webhooks/${webhookId}`, { key })).status).toBe(204);
    expect((await dbDelivery(deliveryId))!.status).toBe("cancelled");
    release();
    const r = await running;
    // No retry is scheduled for a cancelled delivery, and it stays cancelled.
    expect(r.retryMessages).toEqual([]);
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(1);
    const row = (await dbDelivery(deliveryId))!;
    expect(row.status).toBe("cancelled");
    expect(row.next_attempt_at).toBeNull();
    expect(row.attempts).toBe(1);
  });

  it("a subscription soft-deleted without cancelling (a race): the consumer cancels, no fetch", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    await env.DB.prepare("UPDATE webhooks SET deleted_at = ? WHERE id = ?").bind(Date.now(), webhookId).run();
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(0);
    expect((await dbDelivery(deliveryId))!.status).toBe("cancelled");
    void key;
  });
});

describe("the dead-letter queue", () => {
  it("marks a pending delivery failed and acks", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("", { status: 500 }));
    await expectRetry(deliveryId);
    const r = await runDeliveryConsumer([deliveryId], "hookgate-deliveries-dlq");
    expect(r.explicitAcks).toEqual(r.ids);
    expect(r.retryMessages).toEqual([]);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "failed", attemptCount: 1, nextAttemptAt: null });
    // A later copy on the main queue sends nothing.
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(1);
  });

  it("leaves a settled delivery as it is", async () => {
    const { key, deliveryId } = await oneDelivery();
    await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    const r = await runDeliveryConsumer([deliveryId], "hookgate-deliveries-dlq");
    expect(r.explicitAcks).toEqual(r.ids);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded" });
  });
});
