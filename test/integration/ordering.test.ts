import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { locate } from "../../src/data/shard-map";
import { governorFor } from "../../src/objects";
import { deliveryRow, shardSql, updateDelivery } from "./data-plane";
import {
  call,
  callWithEnv,
  deliverySetup,
  expectProblem,
  type FakeCall,
  fieldError,
  getDelivery,
  newKey,
  runDeliveryConsumer,
  sleep,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";
import { expectAccepted, newSource, send, sourceTenant } from "./sources-kit";

afterEach(() => vi.restoreAllMocks());

/** A tenant with one ordered subscription (and `extra` on the tenant). */
const orderedSetup = (tenant: Record<string, unknown> = {}) => deliverySetup({ tenant, webhook: { ordering: "key" } });

/** Publishes one event with an orderingKey (none when undefined); returns its event and delivery ids. */
async function publishKeyed(key: string, orderingKey: string | undefined, n: number) {
  const r = await call("POST", "/v1/events", {
    key,
    body: { type: "invoice.paid", data: { n }, ...(orderingKey !== undefined && { orderingKey }) },
  });
  expect(r.status, r.text).toBe(202);
  return { eventId: r.body.id as string, deliveryId: r.body.deliveries[0].id as string, body: r.body };
}

/** The `n` of each event the endpoint received, in order. */
const sentN = (calls: FakeCall[]) => calls.map((c) => JSON.parse(c.body).data.n as number);

/** The governor's lines: delivery ids in registration order (still in line only). */
async function lineOf(webhookId: string): Promise<string[]> {
  return runInDurableObject(governorFor(env, webhookId), (_o, state) =>
    state.storage.sql
      .exec("SELECT delivery_id FROM order_turns WHERE released_at IS NULL ORDER BY seq")
      .toArray()
      .map((r) => String(r.delivery_id)),
  );
}

/** An endpoint that answers 200 after `ms`, recording how many requests were in flight at once. */
async function slowEndpoint(ms: number, fail: (n: number) => boolean = () => false) {
  let inFlight = 0;
  const peak = { value: 0 };
  const stub = await stubEndpoint(async (c) => {
    inFlight++;
    peak.value = Math.max(peak.value, inFlight);
    await sleep(ms);
    inFlight--;
    return new Response("", { status: fail(JSON.parse(c.body).data.n) ? 500 : 200 });
  });
  return { ...stub, peak };
}

describe("ordered delivery: one at a time per key, in acceptance order", () => {
  it("keeps the order under retries: the second is not sent before the first succeeded, and waiting is no attempt", async () => {
    const { key } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    let firstCalls = 0;
    const { calls } = await stubEndpoint((c) => {
      const n = JSON.parse(c.body).data.n;
      if (n === 1 && ++firstCalls <= 2) return new Response("down", { status: 500 });
      return new Response("ok");
    });
    const d1 = await publishKeyed(key, "customer_1", 1);
    const d2 = await publishKeyed(key, "customer_1", 2);
    const d3 = await publishKeyed(key, "customer_1", 3);
    expect(d1.body.orderingKey).toBe("customer_1");
    // Only the head is started; the others wait for their turn, due at their recheck time.
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([d1.deliveryId]);
    expect(Number((await deliveryRow(d2.deliveryId))!.next_attempt_at)).toBeGreaterThan(Date.now() + 30_000);

    const first = await runDeliveryConsumer([d1.deliveryId]);
    expect(first.retryMessages).toHaveLength(1);
    // A stray message for the second (a repaired row, a duplicate) must not jump the line.
    await runDeliveryConsumer([d2.deliveryId, d3.deliveryId]);
    expect(sentN(calls)).toEqual([1]);
    expect(await getDelivery(key, d2.deliveryId)).toMatchObject({ status: "pending", attemptCount: 0, attempts: [] });

    await runDeliveryConsumer([d1.deliveryId]);
    expect(sentN(calls)).toEqual([1, 1]);
    // The third attempt succeeds: the turn passes on, and the line runs on in place.
    await runDeliveryConsumer([d1.deliveryId]);
    expect(sentN(calls)).toEqual([1, 1, 1, 2, 3]);
    expect(await getDelivery(key, d1.deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 3 });
    for (const d of [d2, d3]) expect(await getDelivery(key, d.deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
    // The head's failures counted towards the breaker as attempts; its success reset it.
    expect((await governorFor(env, (await getDelivery(key, d1.deliveryId)).webhookId).breakerState()).consecutiveFailures).toBe(0);
  });

  it("orders concurrent publishes of one key as they were accepted, and sends them one at a time", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const { calls, peak } = await slowEndpoint(5);
    const published = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => publishKeyed(key, "k", n)));
    const accepted = await lineOf(webhookId);
    expect([...accepted].sort()).toEqual(published.map((p) => p.deliveryId).sort());
    // Every message at once, as a burst of repairs would deliver them: still one at a time, in the line's order.
    await runDeliveryConsumer(published.map((p) => p.deliveryId));
    const nOf = new Map(published.map((p, i) => [p.deliveryId, i + 1]));
    expect(sentN(calls)).toEqual(accepted.map((id) => nOf.get(id)));
    expect(peak.value).toBe(1);
    expect(await lineOf(webhookId)).toEqual([]);
  });

  it("sends different keys in parallel, and a failing head holds back only its own key", async () => {
    const { key } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    // Key "a" (odd n) fails; key "b" (even n) succeeds.
    const { calls, peak } = await slowEndpoint(30, (n) => n % 2 === 1);
    const a1 = await publishKeyed(key, "a", 1);
    const b1 = await publishKeyed(key, "b", 2);
    const a2 = await publishKeyed(key, "a", 3);
    const b2 = await publishKeyed(key, "b", 4);
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([a1.deliveryId, b1.deliveryId]);
    await runDeliveryConsumer([a1.deliveryId, b1.deliveryId]);
    expect(peak.value).toBe(2);
    expect(sentN(calls).sort()).toEqual([1, 2, 4]);
    expect(await getDelivery(key, a2.deliveryId)).toMatchObject({ status: "pending", attemptCount: 0 });
    expect(await getDelivery(key, b2.deliveryId)).toMatchObject({ status: "succeeded" });
  });

  it("a head failed for good releases the next", async () => {
    const { key, tenantId } = await orderedSetup();
    const patched = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { retrySchedule: ["10s"] } });
    expect(patched.status, patched.text).toBe(200);
    await stubDeliveryQueue();
    const { calls } = await stubEndpoint((c) => new Response("", { status: JSON.parse(c.body).data.n === 1 ? 500 : 200 }));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    await runDeliveryConsumer([d1.deliveryId]);
    expect(sentN(calls)).toEqual([1]);
    await runDeliveryConsumer([d1.deliveryId]);
    expect(sentN(calls)).toEqual([1, 1, 2]);
    expect(await getDelivery(key, d1.deliveryId)).toMatchObject({ status: "failed", attemptCount: 2 });
    expect(await getDelivery(key, d2.deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("a 410 from the head disables the subscription: the next is not sent in its place, it is held", async () => {
    const { key, webhookId } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("gone", { status: 410 }));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    await runDeliveryConsumer([d1.deliveryId]);
    expect(sentN(calls)).toEqual([1]);
    const wake = queue.sent().find((m) => m.deliveryId === d2.deliveryId);
    expect(wake).toBeDefined();
    await runDeliveryConsumer([wake!], "hookgate-deliveries", { due: false });
    expect(sentN(calls)).toEqual([1]);
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body).toMatchObject({ isEnabled: false, disabledReason: "gone" });
    expect(await getDelivery(key, d2.deliveryId)).toMatchObject({ status: "pending", attemptCount: 0 });
  });

  it("a dead-lettered head releases the next (woken through the queue)", async () => {
    const { key } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    await runDeliveryConsumer([d1.deliveryId], "hookgate-deliveries-dlq");
    expect(await getDelivery(key, d1.deliveryId)).toMatchObject({ status: "failed" });
    const wake = queue.sent().find((m) => m.deliveryId === d2.deliveryId);
    expect(wake).toMatchObject({ turnOf: expect.stringMatching(/^wh_/) });
    await runDeliveryConsumer([wake!], "hookgate-deliveries", { due: false });
    expect(sentN(calls)).toEqual([2]);
  });

  it("a cancelled head releases the next", async () => {
    const { key, tenantId } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    // Its event is gone (dropped): the consumer cancels the delivery.
    await shardSql(tenantId, d1.eventId, "DELETE FROM events WHERE id = ?", d1.eventId);
    await runDeliveryConsumer([d1.deliveryId]);
    expect((await deliveryRow(d1.deliveryId))!.status).toBe("cancelled");
    const wake = queue.sent().find((m) => m.deliveryId === d2.deliveryId);
    expect(wake).toBeDefined();
    // The wake is due now, although the row's time was its recheck (no `due` help here).
    await runDeliveryConsumer([wake!], "hookgate-deliveries", { due: false });
    expect(sentN(calls)).toEqual([2]);
  });

  it("deleting the subscription cancels its deliveries and empties its lines", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    expect(await lineOf(webhookId)).toEqual([d1.deliveryId, d2.deliveryId]);
    expect((await call("DELETE", `/v1/webhooks/${webhookId}`, { key })).status).toBe(204);
    expect(await lineOf(webhookId)).toEqual([]);
    expect((await deliveryRow(d2.deliveryId))!.status).toBe("cancelled");
  });

  it("repairs a head whose settle never reached the governor (its isolate died): the next in line finds it settled", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    // d1 succeeded in its shard, but the governor never heard (a crash between the two), a while ago.
    await updateDelivery(d1.deliveryId, "status = 'succeeded'");
    await runInDurableObject(governorFor(env, webhookId), (_o, state) => {
      state.storage.sql.exec("UPDATE order_turns SET seen_at = seen_at - 120000");
    });
    // d2 comes up at its recheck time (the shard's outbox re-enqueues it): the governor checks d1 and hands d2 the turn.
    await runDeliveryConsumer([d2.deliveryId]);
    expect(sentN(calls)).toEqual([2]);
    expect(await lineOf(webhookId)).toEqual([]);
  });

  it("keeps a silent head that is still pending (a long retry): the next keeps waiting", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("", { status: 500 }));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    await runDeliveryConsumer([d1.deliveryId]);
    await runInDurableObject(governorFor(env, webhookId), (_o, state) => {
      state.storage.sql.exec("UPDATE order_turns SET seen_at = seen_at - 120000");
    });
    await runDeliveryConsumer([d2.deliveryId]);
    expect(sentN(calls)).toEqual([1]);
    expect(await lineOf(webhookId)).toEqual([d1.deliveryId, d2.deliveryId]);
  });

  it("inline first attempts keep the order too", async () => {
    const { key } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    let fail = true;
    const { calls } = await stubEndpoint(() => new Response("", { status: fail ? 500 : 200 }));
    const inline = (n: number) =>
      callWithEnv({ FIRST_ATTEMPT: "inline" }, "POST", "/v1/events", {
        key,
        body: { type: "invoice.paid", data: { n }, orderingKey: "k" },
      });
    const p1 = await inline(1);
    expect(p1.status).toBe(202);
    // The head's inline attempt failed: its retry is queued, and the next publish of its key waits.
    expect(sentN(calls)).toEqual([1]);
    const p2 = await inline(2);
    expect(sentN(calls)).toEqual([1]);
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([p1.body.deliveries[0].id]);
    fail = false;
    await runDeliveryConsumer([p1.body.deliveries[0].id]);
    expect(sentN(calls)).toEqual([1, 1, 2]);
    // With the line empty, the next publish goes inline at once.
    await inline(3);
    expect(sentN(calls)).toEqual([1, 1, 2, 3]);
    expect(await getDelivery(key, p2.body.deliveries[0].id)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });

  it("counts events without a key as one key", async () => {
    const { key } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const ds = [];
    for (const n of [1, 2, 3]) ds.push(await publishKeyed(key, undefined, n));
    expect(ds[0]!.body).not.toHaveProperty("orderingKey");
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([ds[0]!.deliveryId]);
    await runDeliveryConsumer(ds.map((d) => d.deliveryId).reverse());
    expect(sentN(calls)).toEqual([1, 2, 3]);
  });

  it("keeps one key in order across a tenant's data shards", async () => {
    const { key } = await orderedSetup({ dataShards: 4 });
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const ds = [];
    for (let n = 1; n <= 12; n++) ds.push(await publishKeyed(key, "k", n));
    const shards = new Set(ds.map((d) => locate(d.eventId, "evt")!.shard));
    expect(shards.size).toBeGreaterThan(1);
    expect(queue.sent()).toHaveLength(1);
    await runDeliveryConsumer([ds[0]!.deliveryId]);
    expect(sentN(calls)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("leaves unordered subscriptions alone: all started at once, no line kept, no key needed", async () => {
    const { key, webhookId } = await deliverySetup();
    const ordered = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/ordered", eventTypes: ["invoice.paid"], ordering: "key" },
    });
    expect(ordered.body.ordering).toBe("key");
    const queue = await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const ds = [];
    for (const n of [1, 2, 3]) ds.push(await publishKeyed(key, "k", n));
    const unorderedIds = ds.map((d) => d.body.deliveries.find((x: any) => x.webhookId === webhookId).id);
    const sent = queue.sent().map((m) => m.deliveryId);
    for (const id of unorderedIds) expect(sent).toContain(id);
    expect(sent).toHaveLength(4);
    await runDeliveryConsumer(unorderedIds);
    expect(calls.filter((c) => c.url.endsWith("/x"))).toHaveLength(3);
    const tables = await runInDurableObject(governorFor(env, webhookId), (_o, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'order_turns'").toArray(),
    );
    expect(tables).toEqual([]);
  });
});

describe("ordering and orderingKey: the API", () => {
  it("ordering is none by default, shown, changed, and validated (stored data untouched)", async () => {
    const { key, webhookId, webhook } = await deliverySetup();
    expect(webhook.ordering).toBe("none");
    const listed = await call("GET", "/v1/webhooks", { key });
    expect(listed.body.data[0].ordering).toBe("none");
    const patched = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { ordering: "key" } });
    expect(patched.body.ordering).toBe("key");
    for (const bad of ["fifo", "KEY", 1, null]) {
      const res = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { ordering: bad } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "ordering").message).toMatch(/none|key/);
    }
    const created = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/y", eventTypes: ["invoice.paid"], ordering: "sometimes" },
    });
    expectProblem(created, 422, "validation_failed");
    expect((await call("GET", `/v1/webhooks/${webhookId}`, { key })).body.ordering).toBe("key");
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toHaveLength(1);
    // Another tenant's subscription: 404; a read-only key: 403.
    const other = await deliverySetup();
    expectProblem(await call("PATCH", `/v1/webhooks/${webhookId}`, { key: other.key, body: { ordering: "none" } }), 404, "not_found");
    const reader = await newKey(key, { scopes: ["webhooks:read"] });
    const refused = await call("PATCH", `/v1/webhooks/${webhookId}`, { key: reader.key, body: { ordering: "none" } });
    expect(refused.status).toBe(403);
    // Back to none: the lines go.
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { ordering: "none" } })).body.ordering).toBe("none");
  });

  it("orderingKey is 1..128 characters of text, stored with the event and returned on reads; not in the delivered body", async () => {
    const { key } = await orderedSetup();
    await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("ok"));
    const max = "k".repeat(128);
    const ok = await publishKeyed(key, max, 1);
    for (const bad of ["k".repeat(129), "", 42, null, ["a"]]) {
      const res = await call("POST", "/v1/events", { key, body: { type: "invoice.paid", data: { n: 0 }, orderingKey: bad } });
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "orderingKey");
    }
    const polled = await call("GET", "/v1/events", { key });
    expect(polled.body.data.map((e: any) => e.orderingKey)).toEqual([max]);
    expect((await call("GET", `/v1/events/${ok.eventId}`, { key })).body.orderingKey).toBe(max);
    await runDeliveryConsumer([ok.deliveryId]);
    expect(Object.keys(JSON.parse(calls[0]!.body)).sort()).toEqual(["createdAt", "data", "id", "type"]);
  });

  it("the operator publishes with an orderingKey too", async () => {
    const { key, tenantId } = await orderedSetup();
    const queue = await stubDeliveryQueue();
    const body = { type: "invoice.paid", data: { n: 1 }, orderingKey: "op-key" };
    const first = await call("POST", `/admin/tenants/${tenantId}/events`, { admin: true, body });
    expect(first.status, first.text).toBe(202);
    expect(first.body.orderingKey).toBe("op-key");
    const second = await call("POST", `/admin/tenants/${tenantId}/events`, { admin: true, body: { ...body, data: { n: 2 } } });
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([first.body.deliveries[0].id]);
    expect((await getDelivery(key, second.body.deliveries[0].id)).status).toBe("pending");
    const tooLong = await call("POST", `/admin/tenants/${tenantId}/events`, {
      admin: true,
      body: { ...body, orderingKey: "x".repeat(129) },
    });
    expectProblem(tooLong, 422, "validation_failed");
  });

  it("switching ordering off drops the lines: a waiting delivery goes out unordered when it comes up", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const { calls } = await stubEndpoint(new Response("", { status: 500 }));
    const d1 = await publishKeyed(key, "k", 1);
    const d2 = await publishKeyed(key, "k", 2);
    await runDeliveryConsumer([d1.deliveryId]);
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { ordering: "none" } })).status).toBe(200);
    expect(await lineOf(webhookId)).toEqual([]);
    await runDeliveryConsumer([d2.deliveryId]);
    expect(sentN(calls)).toEqual([1, 2]);
  });

  it("an operator endpoint can be ordered too", async () => {
    const { key, tenantId } = await orderedSetup();
    const op = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/in", eventTypes: ["invoice.paid"], tenantIds: [tenantId], ordering: "key" },
    });
    expect(op.status, op.text).toBe(201);
    expect(op.body.ordering).toBe("key");
    const queue = await stubDeliveryQueue();
    await publishKeyed(key, "k", 1);
    await publishKeyed(key, "k", 2);
    // Two subscriptions, each with its own line: the first event's delivery to each is sent, the second's waits.
    const sentTo = queue.sent().map((m) => m.deliveryId);
    expect(sentTo).toHaveLength(2);
    expect((await call("DELETE", `/admin/webhooks/${op.body.id}`, { admin: true })).status).toBe(204);
  });

  it("an idempotent repeat adds nothing to the line", async () => {
    const { key, webhookId } = await orderedSetup();
    await stubDeliveryQueue();
    const body = { type: "invoice.paid", data: { n: 1 }, orderingKey: "k" };
    const first = await call("POST", "/v1/events", { key, body, headers: { "idempotency-key": "once" } });
    const again = await call("POST", "/v1/events", { key, body, headers: { "idempotency-key": "once" } });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await lineOf(webhookId)).toEqual([first.body.deliveries[0].id]);
  });

  it("a source sets the event's orderingKey from a template", async () => {
    const { key } = await sourceTenant(["order.created"]);
    const bad = await call("POST", "/v1/sources", { key, body: { name: "bad", eventType: "order.created", orderingKey: "{{nope}}" } });
    expectProblem(bad, 422, "validation_failed");
    fieldError(bad, "orderingKey");
    const src = await newSource(key, { eventType: "order.created", orderingKey: "cust-{{trigger.customer}}" });
    expect(src.body.orderingKey).toBe("cust-{{trigger.customer}}");
    const eventId = expectAccepted(await send(src.path, JSON.stringify({ customer: 7 })));
    expect((await call("GET", `/v1/events/${eventId}`, { key })).body.orderingKey).toBe("cust-7");
    // An empty result publishes without a key; a long one stands for itself by its hash.
    const noKey = expectAccepted(await send(src.path, JSON.stringify({})));
    expect((await call("GET", `/v1/events/${noKey}`, { key })).body.orderingKey).toBe("cust-null");
    const whole = await call("PATCH", `/v1/sources/${src.id}`, { key, body: { orderingKey: "{{trigger.customer}}" } });
    expect(whole.body.orderingKey).toBe("{{trigger.customer}}");
    const empty = expectAccepted(await send(src.path, JSON.stringify({ other: 1 })));
    expect((await call("GET", `/v1/events/${empty}`, { key })).body).not.toHaveProperty("orderingKey");
    const long = expectAccepted(await send(src.path, JSON.stringify({ customer: "c".repeat(300) })));
    expect((await call("GET", `/v1/events/${long}`, { key })).body.orderingKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
