import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { deliveryRow, runShardAlarm } from "./data-plane";
import {
  call,
  callWithEnv,
  deliverySetup,
  eventually,
  getDelivery,
  newOperatorEndpoint,
  newOperatorType,
  newTenant,
  runDeliveryConsumer,
  sleep,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

/**
 * Events published while a subscription's breaker is open are not lost:
 * their deliveries are created held (pending, no attempt, listed with the
 * governor in order) and go out in order once a probe succeeds. A
 * subscription its tenant switched off gets none.
 */

afterEach(() => vi.restoreAllMocks());

const HOUR = 3_600_000;
// Inline first attempts, a breaker that trips at once and probes a second later.
const OUTAGE = { FIRST_ATTEMPT: "inline", BREAKER_THRESHOLD: "1", BREAKER_PROBE_SECONDS: "1" };

type Published = { id: string; deliveries: { id: string; webhookId: string; status: string; attemptCount: number }[] };

/** The governor's held deliveries, in the order they go out. */
const heldList = (webhookId: string) =>
  runInDurableObject(governorFor(env, webhookId), (_o, state) =>
    state.storage.sql
      .exec("SELECT delivery_id FROM held ORDER BY created_at, delivery_id")
      .toArray()
      .map((r) => String(r.delivery_id)),
  );

/**
 * The probe: once due (a second after the trip), the governor's alarm runs (here, unless the
 * runtime ran it first) and sends the oldest held delivery as the probe, through the queue.
 */
async function probeMessage(t: { webhookId: string; probeDue: number; queue: Awaited<ReturnType<typeof stubDeliveryQueue>> }) {
  while (Date.now() < t.probeDue) await sleep(50);
  await runDurableObjectAlarm(governorFor(env, t.webhookId));
  const probes = await eventually(async () => {
    const sent = t.queue.sent().filter((m) => m.kind === "probe");
    return sent.length > 0 ? sent : undefined;
  });
  expect(probes).toHaveLength(1);
  return probes[0]!;
}

/** A tenant whose subscription's breaker has just tripped (its first delivery, n 0, failed inline), the endpoint still down. */
async function tripped(webhook: Record<string, unknown> = {}) {
  const setup = await deliverySetup({ tenant: { breakerThreshold: 1 }, webhook });
  const queue = await stubDeliveryQueue();
  const status = { current: 500 };
  const endpoint = await stubEndpoint(() => new Response("", { status: status.current }));
  const publish = async (n: number, how: "inline" | "queue") => {
    const body = { type: "invoice.paid", data: { n }, ...(webhook.ordering === "key" && { orderingKey: "k" }) };
    const r =
      how === "inline"
        ? await callWithEnv(OUTAGE, "POST", "/v1/events", { key: setup.key, body })
        : await call("POST", "/v1/events", { key: setup.key, body });
    expect(r.status, r.text).toBe(202);
    return r.body as Published;
  };
  const first = (await publish(0, "inline")).deliveries[0]!.id;
  // The trip happened within that publish: its first probe is due a second after it at the latest.
  const probeDue = Date.now() + 1_000;
  expect((await call("GET", `/v1/webhooks/${setup.webhookId}`, { key: setup.key })).body).toMatchObject({
    isEnabled: false,
    disabledReason: "circuit_breaker",
  });
  const sentN = () => endpoint.calls.map((c) => JSON.parse(c.body).data.n as number);
  return { ...setup, queue, endpoint, status, publish, first, probeDue, sentN };
}

describe("events published while the breaker is open", () => {
  it("get held deliveries (no attempt, never repaired), listed in order; after the probe succeeds every one is delivered, in order", async () => {
    const t = await tripped();
    const during = [await t.publish(1, "queue"), await t.publish(2, "inline"), await t.publish(3, "queue")];
    const ids = during.map((p) => p.deliveries[0]!.id);
    for (const p of during)
      expect(p.deliveries).toEqual([expect.objectContaining({ webhookId: t.webhookId, status: "pending", attemptCount: 0 })]);
    expect(t.sentN(), "nothing is sent while the breaker is open").toEqual([0]);
    for (const id of ids) expect(t.queue.sent().map((m) => m.deliveryId)).not.toContain(id);
    for (const id of ids) expect((await deliveryRow(id))!.next_attempt_at).toBeNull();
    expect(await heldList(t.webhookId)).toEqual([t.first, ...ids]);
    // The outbox leaves them alone.
    await runShardAlarm(t.tenantId, ids[0]!);
    for (const id of ids) expect(t.queue.sent().map((m) => m.deliveryId)).not.toContain(id);

    // The probe is the oldest held delivery (the tripping one); the endpoint is back when it goes out.
    const probe = await probeMessage(t);
    expect(probe).toEqual({ kind: "probe", deliveryId: t.first, tenantId: t.tenantId });
    expect(await heldList(t.webhookId)).toEqual([t.first, ...ids]);
    t.status.current = 200;
    const before = t.queue.sent().length;
    await runDeliveryConsumer([probe as never]);
    expect((await call("GET", `/v1/webhooks/${t.webhookId}`, { key: t.key })).body).toMatchObject({
      isEnabled: true,
      disabledReason: null,
    });
    // Released in their order.
    expect(
      t.queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).toEqual(ids);
    for (const id of ids) await runDeliveryConsumer([id]);
    expect(t.sentN()).toEqual([0, 0, 1, 2, 3]);
    for (const id of ids) expect(await getDelivery(t.key, id)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("an ordered subscription: the held line goes out in acceptance order, even when every message arrives at once", async () => {
    const t = await tripped({ ordering: "key" });
    const ids = [];
    for (const n of [1, 2, 3, 4]) ids.push((await t.publish(n, n % 2 ? "inline" : "queue")).deliveries[0]!.id);
    expect(t.sentN()).toEqual([0]);
    const probe = await probeMessage(t);
    t.status.current = 200;
    await runDeliveryConsumer([probe as never, ...[...ids].reverse()]);
    expect(t.sentN()).toEqual([0, 0, 1, 2, 3, 4]);
    for (const id of ids) expect((await getDelivery(t.key, id)).status).toBe("succeeded");
  });

  it("a subscription its tenant switched off gets none, tripped or not; enabling it again sends what was held before", async () => {
    const t = await tripped();
    const off = await call("PATCH", `/v1/webhooks/${t.webhookId}`, { key: t.key, body: { isEnabled: false } });
    expect(off.body).toMatchObject({ isEnabled: false, disabledReason: "manual" });
    expect((await t.publish(1, "queue")).deliveries).toEqual([]);
    expect((await t.publish(2, "inline")).deliveries).toEqual([]);
    expect(await heldList(t.webhookId)).toEqual([t.first]);
    t.status.current = 200;
    const before = t.queue.sent().length;
    expect((await call("PATCH", `/v1/webhooks/${t.webhookId}`, { key: t.key, body: { isEnabled: true } })).status).toBe(200);
    expect(
      t.queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).toEqual([t.first]);
    // Never tripped, switched off: none either.
    const other = await deliverySetup();
    expect((await call("PATCH", `/v1/webhooks/${other.webhookId}`, { key: other.key, body: { isEnabled: false } })).status).toBe(200);
    const r = await call("POST", "/v1/events", { key: other.key, body: { type: "invoice.paid", data: {} } });
    expect(r.body.deliveries).toEqual([]);
  });

  it("give-up fails them like the other held ones; an event published after give-up gets a failed delivery, never sent", async () => {
    const t = await tripped();
    const during = (await t.publish(1, "queue")).deliveries[0]!.id;
    const tick = (now: number) =>
      runInDurableObject(governorFor(env, t.webhookId), (o) =>
        (o as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(now),
      );
    await tick(Date.now() + 73 * HOUR);
    for (const id of [t.first, during]) expect((await getDelivery(t.key, id)).status).toBe("failed");
    const after = (await t.publish(2, "inline")).deliveries[0]!.id;
    expect(await getDelivery(t.key, after)).toMatchObject({ status: "failed", attemptCount: 0 });
    expect(t.sentN()).toEqual([0]);
    const exhausted = await call("GET", "/v1/events?type=hookgate.delivery.exhausted", { key: t.key });
    expect(exhausted.body.data.map((e: { data: { deliveryId: string } }) => e.data.deliveryId).sort()).toEqual(
      [t.first, during, after].sort(),
    );
  });

  it("the governor decides when this isolate's copy of the subscription is behind: healed meanwhile, sent; switched off meanwhile, none", async () => {
    const t = await tripped();
    // The breaker was reset, the row's update not yet read here: an ordinary delivery, enqueued at once.
    const reset = await runInDurableObject(governorFor(env, t.webhookId), (o) => (o as unknown as { reset(): unknown[] }).reset());
    expect(reset).toEqual([{ deliveryId: t.first, eventTenantId: t.tenantId, createdAt: expect.any(Number) }]);
    const healed = (await t.publish(1, "queue")).deliveries[0]!.id;
    expect(t.queue.sent().map((m) => m.deliveryId)).toContain(healed);
    expect((await deliveryRow(healed))!.next_attempt_at).not.toBeNull();
    // Switched off by its owner in another isolate (the governor holds it as "manual"): no delivery.
    await runInDurableObject(governorFor(env, t.webhookId), (o) =>
      (o as unknown as { holdFor(...a: unknown[]): Promise<unknown> }).holdFor(
        { webhookId: t.webhookId, ownerId: t.tenantId },
        "manual",
        null,
        { probeMs: 60_000, giveUpMs: 72 * HOUR },
      ),
    );
    expect((await t.publish(2, "queue")).deliveries).toEqual([]);
  });

  it("the hold ends while the publish stores its rows: healed, the held row goes out now; given up, it fails", async () => {
    const t = await tripped();
    const governor = () => governorFor(env, t.webhookId) as unknown as { reset(): Promise<unknown[]> };
    // Runs `during` as the publish's shard write starts: after the governor listed the new row, before it is stored.
    const duringWrite = (during: () => Promise<unknown>) => {
      const get = env.DATA_SHARD.get.bind(env.DATA_SHARD);
      const spy = vi.spyOn(env.DATA_SHARD, "get").mockImplementation((id) => {
        const stub = get(id);
        return new Proxy(stub, {
          get: (target, prop) =>
            prop === "publish"
              ? async (input: never) => {
                  spy.mockRestore();
                  await during();
                  return target.publish(input);
                }
              : Reflect.get(target, prop),
        });
      });
    };
    duringWrite(() => governor().reset());
    const healed = (await t.publish(1, "queue")).deliveries[0]!.id;
    expect(t.queue.sent().map((m) => m.deliveryId)).toContain(healed);
    expect((await deliveryRow(healed))!.next_attempt_at).not.toBeNull();

    const again = await tripped();
    duringWrite(() =>
      runInDurableObject(governorFor(env, again.webhookId), (o) =>
        (o as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(Date.now() + 73 * HOUR),
      ),
    );
    const late = (await again.publish(1, "queue")).deliveries[0]!.id;
    expect(await getDelivery(again.key, late)).toMatchObject({ status: "failed", attemptCount: 0 });
    expect(again.queue.sent().map((m) => m.deliveryId)).not.toContain(late);
  });

  it("an operator endpoint that tripped holds its deliveries the same way", async () => {
    const type = await newOperatorType();
    const { tenant } = await newTenant();
    const hook = await newOperatorEndpoint({ eventTypes: [type.name], tenantIds: [tenant.id] });
    try {
      const queue = await stubDeliveryQueue();
      const endpoint = await stubEndpoint(new Response("", { status: 500 }));
      const fire = (n: number) =>
        callWithEnv(OUTAGE, "POST", `/admin/tenants/${tenant.id}/events`, { admin: true, body: { type: type.name, data: { n } } });
      expect((await fire(0)).status).toBe(202);
      expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body).toMatchObject({ disabledReason: "circuit_breaker" });
      expect((await fire(1)).status).toBe(202);
      expect(endpoint.calls).toHaveLength(1);
      const held = await heldList(hook.id);
      expect(held).toHaveLength(2);
      expect((await deliveryRow(held[1]!))!).toMatchObject({ status: "pending", next_attempt_at: null, attempts: 0 });
      await endpoint.answerWith(new Response("ok"));
      const before = queue.sent().length;
      expect((await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { isEnabled: true } })).status).toBe(200);
      // (A probe the governor's alarm may have sent meanwhile is only recorded: the stubbed queue runs nothing.)
      expect(
        queue
          .sent()
          .slice(before)
          .filter((m) => m.kind !== "probe")
          .map((m) => m.deliveryId),
      ).toEqual(held);
      await runDeliveryConsumer(held);
      expect(endpoint.calls.map((c) => JSON.parse(c.body).data.n).sort()).toEqual([0, 0, 1]);
    } finally {
      await call("DELETE", `/admin/webhooks/${hook.id}`, { admin: true });
    }
  });
});
