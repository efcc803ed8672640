import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { REPAIR_BACKOFF_MS, REPAIR_GRACE_MS } from "../../src/data/data-shard";
import { deliveryRow, runShardAlarm, shardOf, updateDelivery } from "./data-plane";
import { deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

/**
 * The data shard's alarm is the outbox: a pending delivery whose queue
 * message was lost (the enqueue failed, the process died mid-attempt)
 * is re-enqueued once it is REPAIR_GRACE_MS past due or past its lease.
 * No cron: each object repairs its own rows.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

async function oneDelivery() {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup();
  const { deliveryIds, eventId } = await publishEvent(setup.key, "invoice.paid");
  return { ...setup, queue, deliveryId: deliveryIds[0]!, eventId };
}

const repairedBy = async (tenantId: string, id: string, queue: Awaited<ReturnType<typeof stubDeliveryQueue>>) => {
  const before = queue.sent().length;
  await runShardAlarm(tenantId, id);
  return queue
    .sent()
    .slice(before)
    .map((m) => m.deliveryId);
};

/** The rule: a delivery whose message or attempt was lost is attempted again within two minutes of being due. */
const TWO_MINUTES = 120_000;

const alarmOf = (tenantId: string, id: string) => runInDurableObject(shardOf(tenantId, id), (_o, state) => state.storage.getAlarm());

describe("the outbox alarm", () => {
  it("is armed by the publish, at the first delivery's due time plus the grace", async () => {
    const before = Date.now();
    const { tenantId, deliveryId } = await oneDelivery();
    const at = await alarmOf(tenantId, deliveryId);
    expect(at).toBeGreaterThanOrEqual(before + REPAIR_GRACE_MS);
    expect(at).toBeLessThanOrEqual(Date.now() + REPAIR_GRACE_MS);
  });

  it("re-enqueues a pending delivery past due by more than the grace, moving its due time to now; not one due recently or later", async () => {
    const { key, tenantId, deliveryId: lost, queue } = await oneDelivery();
    const recent = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    const future = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
    const now = Date.now();
    await updateDelivery(lost, "next_attempt_at = ?", now - REPAIR_GRACE_MS - 5_000);
    await updateDelivery(recent, "next_attempt_at = ?", now - 5_000);
    await updateDelivery(future, "next_attempt_at = ?", now + 60_000);

    const before = Date.now();
    const repaired = await repairedBy(tenantId, lost, queue);
    expect(repaired).toEqual([lost]);
    expect(queue.messages.at(-1)!.body).toEqual({ kind: "attempt", deliveryId: lost, tenantId });
    const row = (await deliveryRow(lost))!;
    expect(row.status).toBe("pending");
    expect(row.next_attempt_at as number).toBeGreaterThanOrEqual(before - 1000);
    expect(row.next_attempt_at as number).toBeLessThanOrEqual(Date.now() + 1000);
    expect((await deliveryRow(future))!.next_attempt_at).toBe(now + 60_000);
    // The alarm comes back for what is still waiting.
    expect(await alarmOf(tenantId, lost)).not.toBeNull();

    // The repaired message delivers it.
    const endpoint = await stubEndpoint(new Response("ok"));
    const r = await runDeliveryConsumer([lost]);
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, lost)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("repairs a row once, then again only after the backoff while the queue has not taken it", async () => {
    const { tenantId, deliveryId, queue } = await oneDelivery();
    await updateDelivery(deliveryId, "next_attempt_at = ?", Date.now() - REPAIR_GRACE_MS - 1_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
    // Past the grace again, but repaired a moment ago: the queue may just be behind.
    await updateDelivery(deliveryId, "next_attempt_at = ?", Date.now() - REPAIR_GRACE_MS - 1_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([]);
    await updateDelivery(deliveryId, "repaired_at = ?", Date.now() - REPAIR_BACKOFF_MS - 1_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
  });

  it("a repaired delivery whose message was lost again is re-sent in time for an attempt within two minutes of being due", async () => {
    const { tenantId, deliveryId, queue } = await oneDelivery();
    const due = Date.now() - REPAIR_GRACE_MS - 1_000;
    await updateDelivery(deliveryId, "next_attempt_at = ?", due);
    // The repair's message is lost too (the process died before the consumer claimed the row).
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
    const comeBack = (await alarmOf(tenantId, deliveryId))!;
    expect(comeBack - due).toBeLessThan(TWO_MINUTES);
    // Time passes until that alarm (the row's times move back by as much), and it sends the row again.
    const passed = comeBack - Date.now();
    await updateDelivery(deliveryId, "next_attempt_at = next_attempt_at - ?, repaired_at = repaired_at - ?", passed, passed);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
  });

  it("a repair whose send fails leaves the rows as they were and comes back at once, not after the backoff", async () => {
    const { tenantId, deliveryId, queue } = await oneDelivery();
    const due = Date.now() - REPAIR_GRACE_MS - 1_000;
    await updateDelivery(deliveryId, "next_attempt_at = ?", due);
    queue.sendBatch.mockRejectedValueOnce(new Error("queue unavailable"));
    const sent = queue.sent().length;
    const before = Date.now();
    await runShardAlarm(tenantId, deliveryId).catch(() => false);
    expect(queue.sent().slice(sent)).toEqual([]);
    expect(await deliveryRow(deliveryId)).toMatchObject({ status: "pending", next_attempt_at: due, repaired_at: null });
    // The alarm comes back well within the grace, not after the backoff.
    const again = await alarmOf(tenantId, deliveryId);
    expect(again).not.toBeNull();
    expect(again! - before).toBeLessThan(REPAIR_GRACE_MS);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
  });

  it("leaves alone a delivery whose attempt is in flight (leased past the timeout)", async () => {
    const { tenantId, deliveryId, queue } = await oneDelivery();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inFlight = new Promise<void>((r) => (started = r));
    const endpoint = await stubEndpoint(async () => {
      started();
      await gate;
      return new Response("ok");
    });
    const running = runDeliveryConsumer([deliveryId]);
    await inFlight;
    const row = (await deliveryRow(deliveryId))!;
    expect(row.attempts).toBe(1);
    expect(row.next_attempt_at as number).toBeGreaterThan(Date.now() + 10_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([]);
    release();
    const r = await running;
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect((await deliveryRow(deliveryId))!.status).toBe("succeeded");
  });

  it("re-attempts a delivery whose lease ran out (the process died mid-attempt), exactly once more", async () => {
    const { key, tenantId, deliveryId, queue } = await oneDelivery();
    // Claimed for attempt 1, then nothing: the lease ends in the past.
    await updateDelivery(deliveryId, "attempts = 1, last_attempt_at = ?, next_attempt_at = ?", Date.now() - 120_000, Date.now() - 60_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([deliveryId]);
    const endpoint = await stubEndpoint(new Response("ok"));
    // The repaired copy and a late duplicate: one attempt between them.
    const r = await runDeliveryConsumer([deliveryId, deliveryId]);
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect(endpoint.calls[0]!.headers.get("x-webhook-attempt")).toBe("2");
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 2 });
  });

  it("does not touch settled deliveries, however old", async () => {
    const { tenantId, deliveryId, queue } = await oneDelivery();
    await stubEndpoint(new Response("", { status: 410 }));
    await runDeliveryConsumer([deliveryId]);
    await updateDelivery(deliveryId, "next_attempt_at = ?", Date.now() - 3_600_000);
    expect(await repairedBy(tenantId, deliveryId, queue)).toEqual([]);
  });

  it("repairs an event stored but never enqueued (the enqueue failed)", async () => {
    const queue = await stubDeliveryQueue();
    const { key, tenantId } = await deliverySetup();
    queue.sendBatch.mockRejectedValueOnce(new Error("queue unavailable"));
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const id = deliveryIds[0]!;
    expect(queue.sent()).toEqual([]);
    expect(await getDelivery(key, id)).toMatchObject({ status: "pending", attemptCount: 0 });
    await updateDelivery(id, "next_attempt_at = ?", Date.now() - REPAIR_GRACE_MS - 1_000);
    expect(await repairedBy(tenantId, id, queue)).toEqual([id]);
    const endpoint = await stubEndpoint(new Response("ok"));
    await runDeliveryConsumer([id]);
    expect(endpoint.calls).toHaveLength(1);
  });

  it("an alarm with nothing pending re-arms for the retention horizon only", async () => {
    const { tenantId, deliveryId } = await oneDelivery();
    await stubEndpoint(new Response("ok"));
    await runDeliveryConsumer([deliveryId]);
    await runShardAlarm(tenantId, deliveryId);
    const meta = await runInDurableObject(shardOf(tenantId, deliveryId), (_o, state) =>
      state.storage.kv.get<{ retentionAt: number }>("meta"),
    );
    expect(await alarmOf(tenantId, deliveryId)).toBe(meta!.retentionAt);
  });
});
