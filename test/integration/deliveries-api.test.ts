import { afterEach, describe, expect, it, vi } from "vitest";
import { bucketStart, locate } from "../../src/data/shard-map";
import { shardSql, updateDelivery } from "./data-plane";
import {
  allPages,
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

afterEach(() => {
  vi.restoreAllMocks();
});

const PAID = "invoice.paid";
const VOIDED = "invoice.voided";
const DELIVERY_FIELDS = [
  "attemptCount",
  "createdAt",
  "eventId",
  "eventType",
  "id",
  "lastAttemptAt",
  "lastDurationMs",
  "lastStatusCode",
  "nextAttemptAt",
  "status",
  "webhookId",
];

/** A delivery's time lies in its shard's day: the fixture's T0 is the start of the day its events were placed in. */
const setCreatedAt = (tenantId: string, eventId: string, at: number) =>
  shardSql(tenantId, eventId, "UPDATE deliveries SET created_at = ? WHERE event_id = ?", at, eventId);

/**
 * Two subscriptions (W1: both types, W2: invoice.paid only) and five deliveries
 * at known times (T0: the start of the events' day) and in known states:
 *   e1 paid   @T0     → d1 (W1, succeeded), d2 (W2, failed)
 *   e2 voided @T0+1s  → d3 (W1, failed)
 *   e3 paid   @T0+2s  → d4 (W1, pending), d5 (W2, succeeded)
 */
async function fixture() {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ types: [PAID, VOIDED] });
  const { key } = setup;
  const w2 = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/two", eventTypes: [PAID] } });
  expect(w2.status, w2.text).toBe(201);
  const W1 = setup.webhookId;
  const W2 = w2.body.id as string;

  const e1 = await publishEvent(key, PAID, { n: 1 });
  const e2 = await publishEvent(key, VOIDED, { n: 2 });
  const e3 = await publishEvent(key, PAID, { n: 3 });
  const T0 = bucketStart(locate(e1.eventId, "evt")!.bucket);
  await setCreatedAt(setup.tenantId, e1.eventId, T0);
  await setCreatedAt(setup.tenantId, e2.eventId, T0 + 1000);
  await setCreatedAt(setup.tenantId, e3.eventId, T0 + 2000);

  const byWebhook = (e: Awaited<ReturnType<typeof publishEvent>>, webhookId: string) => {
    const found = (e.body.deliveries as { id: string; webhookId: string }[]).filter((d) => d.webhookId === webhookId);
    expect(found).toHaveLength(1);
    return found[0]!.id;
  };
  const d1 = byWebhook(e1, W1);
  const d2 = byWebhook(e1, W2);
  const d3 = byWebhook(e2, W1);
  const d4 = byWebhook(e3, W1);
  const d5 = byWebhook(e3, W2);
  expect(e2.deliveryIds).toEqual([d3]);

  let answer = 200;
  const endpoint = await stubEndpoint(() => new Response("", { status: answer }));
  await runDeliveryConsumer([d1, d5]);
  answer = 500;
  // One manual attempt each: failed at once.
  await runDeliveryConsumer([
    { deliveryId: d2, manual: true },
    { deliveryId: d3, manual: true },
  ]);
  expect(endpoint.calls).toHaveLength(4);
  vi.restoreAllMocks();
  return { ...setup, queue, T0, W1, W2, e1: e1.eventId, e2: e2.eventId, e3: e3.eventId, d1, d2, d3, d4, d5 };
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((d) => d.id);
/** Same-time rows come newest id first. */
const desc = (...xs: string[]) => [...xs].sort().reverse();

describe("GET /v1/deliveries", () => {
  it("lists newest first with every field", async () => {
    const f = await fixture();
    const res = await call("GET", "/v1/deliveries", { key: f.key });
    expect(res.status, res.text).toBe(200);
    expect(ids(res)).toEqual([...desc(f.d4, f.d5), f.d3, ...desc(f.d1, f.d2)]);
    expect(res.body.nextCursor).toBeNull();
    for (const d of res.body.data) expect(Object.keys(d).sort()).toEqual(DELIVERY_FIELDS);
    const byId = Object.fromEntries(res.body.data.map((d: { id: string }) => [d.id, d]));
    expect(byId[f.d1]).toMatchObject({
      status: "succeeded",
      attemptCount: 1,
      lastStatusCode: 200,
      nextAttemptAt: null,
      webhookId: f.W1,
      eventId: f.e1,
      eventType: PAID,
      createdAt: new Date(f.T0).toISOString(),
    });
    expect(byId[f.d2]).toMatchObject({ status: "failed", attemptCount: 1, lastStatusCode: 500, nextAttemptAt: null, webhookId: f.W2 });
    expect(byId[f.d3]).toMatchObject({ status: "failed", eventType: VOIDED, createdAt: new Date(f.T0 + 1000).toISOString() });
    expect(byId[f.d4]).toMatchObject({ status: "pending", attemptCount: 0, lastAttemptAt: null, lastStatusCode: null });
    expect(byId[f.d4].nextAttemptAt).toEqual(expect.any(String));
    expect(byId[f.d1].lastAttemptAt).toEqual(expect.any(String));
  });

  it("filters by webhookId, eventId, eventType and status", async () => {
    const f = await fixture();
    const get = (q: string) => call("GET", `/v1/deliveries?${q}`, { key: f.key });
    expect(ids(await get(`webhookId=${f.W2}`))).toEqual([f.d5, f.d2]);
    expect(ids(await get(`webhookId=${f.W1}`))).toEqual([f.d4, f.d3, f.d1]);
    expect(ids(await get(`eventId=${f.e1}`))).toEqual(desc(f.d1, f.d2));
    expect(ids(await get(`eventId=${f.e2}`))).toEqual([f.d3]);
    expect(ids(await get(`eventType=${VOIDED}`))).toEqual([f.d3]);
    expect(ids(await get(`eventType=${PAID}`))).toEqual([...desc(f.d4, f.d5), ...desc(f.d1, f.d2)]);
    expect(ids(await get("status=failed"))).toEqual([f.d3, f.d2]);
    expect(ids(await get("status=succeeded"))).toEqual([f.d5, f.d1]);
    expect(ids(await get("status=pending"))).toEqual([f.d4]);
    expect(ids(await get("status=cancelled"))).toEqual([]);
    // Combined filters narrow further.
    expect(ids(await get(`webhookId=${f.W1}&status=failed`))).toEqual([f.d3]);
    expect(ids(await get(`eventType=${PAID}&status=failed&webhookId=${f.W2}`))).toEqual([f.d2]);
    expect(ids(await get("webhookId=wh_unknown"))).toEqual([]);
  });

  it("filters by since (inclusive) and until (exclusive)", async () => {
    const f = await fixture();
    const T0 = f.T0;
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    const get = (q: string) => call("GET", `/v1/deliveries?${q}`, { key: f.key });
    expect(ids(await get(`since=${iso(T0 + 1000)}`))).toEqual([...desc(f.d4, f.d5), f.d3]);
    expect(ids(await get(`since=${iso(T0 + 1001)}`))).toEqual(desc(f.d4, f.d5));
    expect(ids(await get(`until=${iso(T0 + 1000)}`))).toEqual(desc(f.d1, f.d2));
    expect(ids(await get(`until=${iso(T0 + 2000)}`))).toEqual([f.d3, ...desc(f.d1, f.d2)]);
    expect(ids(await get(`since=${iso(T0 + 500)}&until=${iso(T0 + 1500)}`))).toEqual([f.d3]);
    expect(ids(await get(`since=${iso(T0 + 3000)}`))).toEqual([]);
    // An offset is accepted too (T0 + 1 s, written at +01:00).
    const withOffset = new Date(T0 + 1000 + 3_600_000).toISOString().replace(/\.000Z$/, "+01:00");
    expect(withOffset).toMatch(/T01:00:01\+01:00$/);
    expect(ids(await get(`since=${encodeURIComponent(withOffset)}`))).toEqual([...desc(f.d4, f.d5), f.d3]);
    expect(ids(await get(`since=${iso(T0)}&status=failed`))).toEqual([f.d3, f.d2]);
  });

  it("pages with limit and cursor, newest first, without gaps or repeats", async () => {
    const f = await fixture();
    const first = await call("GET", "/v1/deliveries?limit=2", { key: f.key });
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const pages = await allPages<{ id: string; createdAt: string }>("/v1/deliveries", { key: f.key }, 2);
    expect(pages.pages).toBe(3);
    expect(pages.items.map((d) => d.id)).toEqual([...desc(f.d4, f.d5), f.d3, ...desc(f.d1, f.d2)]);
    const filtered = await allPages<{ id: string }>(`/v1/deliveries?webhookId=${f.W1}`, { key: f.key }, 1);
    expect(filtered.items.map((d) => d.id)).toEqual([f.d4, f.d3, f.d1]);
    expect(filtered.pages).toBe(3);
    const bad = await call("GET", "/v1/deliveries?cursor=nonsense", { key: f.key });
    expectProblem(bad, 400, "invalid_query");
  });

  it("never shows another tenant's deliveries", async () => {
    const f = await fixture();
    const other = await deliverySetup({ types: [PAID, VOIDED] });
    const mine = await call("GET", "/v1/deliveries", { key: other.key });
    expect(mine.status).toBe(200);
    expect(mine.body.data).toEqual([]);
    expect(ids(await call("GET", `/v1/deliveries?eventId=${f.e1}`, { key: other.key }))).toEqual([]);
    expect(ids(await call("GET", `/v1/deliveries?webhookId=${f.W1}`, { key: other.key }))).toEqual([]);
    expectProblem(await call("GET", `/v1/deliveries/${f.d1}`, { key: other.key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/deliveries/${f.d2}/retry`, { key: other.key }), 404, "not_found");
    expectProblem(await call("GET", "/v1/deliveries/dlv_doesnotexist", { key: f.key }), 404, "not_found");
  });

  it("refuses an unknown status with 400 listing the allowed values", async () => {
    const { key } = await deliverySetup();
    const res = await call("GET", "/v1/deliveries?status=delivered", { key });
    expectProblem(res, 400, "invalid_query");
    expect(fieldError(res, "status").allowed).toEqual(["pending", "succeeded", "failed", "cancelled"]);
  });

  it("refuses a malformed since or until with 400 naming it", async () => {
    const { key } = await deliverySetup();
    for (const q of ["since=yesterday", "until=2026-13-01", "since=1700000000"]) {
      const res = await call("GET", `/v1/deliveries?${q}`, { key });
      expectProblem(res, 400, "invalid_query");
      fieldError(res, q.split("=")[0]!);
    }
    expectProblem(await call("GET", "/v1/deliveries?limit=0", { key }), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/deliveries?limit=101", { key }), 400, "invalid_query");
  });

  it("needs webhooks:read", async () => {
    const { key } = await deliverySetup();
    const k = await call("POST", "/v1/keys", { key, body: { name: "events only", scopes: ["events:read"] } });
    expect(k.status, k.text).toBe(201);
    const res = await call("GET", "/v1/deliveries", { key: k.body.key });
    expectProblem(res, 403, "insufficient_scope");
    expect(res.body.requiredScope).toBe("webhooks:read");
  });
});

describe("GET /v1/deliveries/:id", () => {
  it("returns the delivery with its attempt log", async () => {
    const f = await fixture();
    const d = await getDelivery(f.key, f.d2);
    expect(Object.keys(d).sort()).toEqual([...DELIVERY_FIELDS, "attempts"].sort());
    expect(d).toMatchObject({ id: f.d2, status: "failed", attemptCount: 1 });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ attempt: 1, statusCode: 500, error: "http" });
    const pending = await getDelivery(f.key, f.d4);
    expect(pending.attempts).toEqual([]);
  });
});

describe("POST /v1/deliveries/:id/retry", () => {
  it("re-sends a failed delivery once: 202, one more attempt, failed again with no further retry", async () => {
    const queue = await stubDeliveryQueue();
    const { key, tenantId, deliveryIds, eventId } = await (async () => {
      const s = await deliverySetup();
      return { ...s, ...(await publishEvent(s.key, PAID)) };
    })();
    const id = deliveryIds[0]!;
    const endpoint = await stubEndpoint(() => new Response("still down", { status: 500 }));
    // Exhaust the default schedule: 5 attempts.
    for (let i = 0; i < 5; i++) await runDeliveryConsumer([id]);
    expect(await getDelivery(key, id)).toMatchObject({ status: "failed", attemptCount: 5 });
    const sentBefore = queue.messages.length;

    const res = await call("POST", `/v1/deliveries/${id}/retry`, { key });
    expect(res.status, res.text).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(DELIVERY_FIELDS);
    expect(res.body).toMatchObject({ id, status: "pending", attemptCount: 5 });
    expect(res.body.nextAttemptAt).toEqual(expect.any(String));
    // Enqueued now, as a manual attempt.
    const sent = queue.messages.slice(sentBefore);
    expect(sent).toEqual([{ body: { kind: "attempt", deliveryId: id, tenantId, manual: true } }]);
    expect(await getDelivery(key, id)).toMatchObject({ status: "pending", attemptCount: 5 });

    const r = await runDeliveryConsumer([sent[0]!.body]);
    expect(r.retryMessages).toEqual([]);
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(6);
    expect(endpoint.calls[5]!.headers.get("x-webhook-attempt")).toBe("6");
    expect(endpoint.calls[5]!.headers.get("x-webhook-event-id")).toBe(eventId);
    const d = await getDelivery(key, id);
    expect(d).toMatchObject({ status: "failed", attemptCount: 6, nextAttemptAt: null });
    expect(d.attempts).toHaveLength(6);

    // A second retry that succeeds.
    await endpoint.answerWith(() => new Response("ok"));
    expect((await call("POST", `/v1/deliveries/${id}/retry`, { key })).status).toBe(202);
    await runDeliveryConsumer([queue.messages.at(-1)!.body]);
    expect(endpoint.calls).toHaveLength(7);
    expect(endpoint.calls[6]!.headers.get("x-webhook-attempt")).toBe("7");
    expect(await getDelivery(key, id)).toMatchObject({ status: "succeeded", attemptCount: 7, lastStatusCode: 200 });

    const audit = await call("GET", "/v1/audit-log?action=delivery.retried", { key });
    expect(audit.body.data).toHaveLength(2);
    expect(audit.body.data[0]).toMatchObject({ action: "delivery.retried", target: id });
  });

  it("a manual retry of a delivery failed after one attempt is not rescheduled", async () => {
    const f = await fixture();
    const queue = await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("", { status: 503, headers: { "Retry-After": "900" } }));
    expect((await call("POST", `/v1/deliveries/${f.d3}/retry`, { key: f.key })).status).toBe(202);
    const r = await runDeliveryConsumer(queue.sent());
    expect(r.retryMessages).toEqual([]);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(f.key, f.d3)).toMatchObject({ status: "failed", attemptCount: 2, lastStatusCode: 503 });
  });

  it("refuses a pending delivery with 409", async () => {
    const f = await fixture();
    const queue = await stubDeliveryQueue();
    const res = await call("POST", `/v1/deliveries/${f.d4}/retry`, { key: f.key });
    expectProblem(res, 409, "conflict");
    expect(queue.sent()).toEqual([]);
  });

  it("re-sends a succeeded delivery on request", async () => {
    const f = await fixture();
    const queue = await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("again"));
    expect((await call("POST", `/v1/deliveries/${f.d1}/retry`, { key: f.key })).status).toBe(202);
    expect(queue.sent()).toEqual([{ kind: "attempt", deliveryId: f.d1, tenantId: f.tenantId, manual: true }]);
    await runDeliveryConsumer(queue.sent());
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(f.key, f.d1)).toMatchObject({ status: "succeeded", attemptCount: 2 });
  });

  it("refuses with 409 when the subscription is disabled", async () => {
    const f = await fixture();
    const queue = await stubDeliveryQueue();
    expect((await call("PATCH", `/v1/webhooks/${f.W2}`, { key: f.key, body: { isEnabled: false } })).status).toBe(200);
    expectProblem(await call("POST", `/v1/deliveries/${f.d2}/retry`, { key: f.key }), 409, "conflict");
    expect(queue.sent()).toEqual([]);
    expect(await getDelivery(f.key, f.d2)).toMatchObject({ status: "failed" });
  });
});

describe("POST /v1/webhooks/:id/recover", () => {
  it("re-opens every failed delivery since a time (count returned), not earlier ones", async () => {
    const queue = await stubDeliveryQueue();
    const s = await deliverySetup();
    const { key, webhookId } = s;
    const endpoint = await stubEndpoint(() => new Response("", { status: 500 }));
    const made: string[] = [];
    for (let i = 0; i < 4; i++) made.push((await publishEvent(key, PAID, { i })).deliveryIds[0]!);
    const ok = (await publishEvent(key, PAID, { ok: true })).deliveryIds[0]!;
    const pending = (await publishEvent(key, PAID, { later: true })).deliveryIds[0]!;
    await runDeliveryConsumer(made.map((deliveryId) => ({ deliveryId, manual: true })));
    await endpoint.answerWith(() => new Response("ok"));
    await runDeliveryConsumer([ok]);
    // The first failed one is old.
    const now = Date.now();
    await updateDelivery(made[0]!, "created_at = ?", now - 2 * 3_600_000);
    const sentBefore = queue.messages.length;

    const res = await call("POST", `/v1/webhooks/${webhookId}/recover`, { key, body: { since: new Date(now - 3_600_000).toISOString() } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ recovered: 3 });
    const sent = queue.messages.slice(sentBefore);
    expect(sent.map((m) => m.body.deliveryId).sort()).toEqual(made.slice(1).sort());
    for (const m of sent) expect(m.body).toMatchObject({ kind: "attempt", manual: true });
    for (const id of made.slice(1)) expect((await getDelivery(key, id)).status).toBe("pending");
    expect((await getDelivery(key, made[0]!)).status).toBe("failed");
    expect((await getDelivery(key, ok)).status).toBe("succeeded");
    expect((await getDelivery(key, pending)).status).toBe("pending");

    // One more attempt each.
    const calls = endpoint.calls.length;
    const r = await runDeliveryConsumer(sent.map((m) => m.body));
    expect(r.retryMessages).toEqual([]);
    expect(endpoint.calls.length - calls).toBe(3);
    for (const id of made.slice(1)) expect(await getDelivery(key, id)).toMatchObject({ status: "succeeded", attemptCount: 2 });

    // Nothing failed since then any more.
    const again = await call("POST", `/v1/webhooks/${webhookId}/recover`, {
      key,
      body: { since: new Date(now - 3_600_000).toISOString() },
    });
    expect(again.body).toEqual({ recovered: 0 });
    // An earlier since reaches the old one.
    const all = await call("POST", `/v1/webhooks/${webhookId}/recover`, {
      key,
      body: { since: new Date(now - 3 * 3_600_000).toISOString() },
    });
    expect(all.body).toEqual({ recovered: 1 });
    const audit = await call("GET", "/v1/audit-log?action=webhook.recovered", { key });
    expect(audit.body.data.map((a: { details: { deliveries: number } }) => a.details.deliveries)).toEqual([1, 0, 3]);
  });

  it("only touches the given subscription's deliveries", async () => {
    const f = await fixture();
    const queue = await stubDeliveryQueue();
    const res = await call("POST", `/v1/webhooks/${f.W2}/recover`, { key: f.key, body: { since: new Date(f.T0 - 1000).toISOString() } });
    expect(res.body).toEqual({ recovered: 1 });
    expect(queue.sent()).toEqual([{ kind: "attempt", deliveryId: f.d2, tenantId: f.tenantId, manual: true }]);
    expect((await getDelivery(f.key, f.d3)).status).toBe("failed");
  });

  it("refuses a bad since with 422 naming it", async () => {
    const { key, webhookId } = await deliverySetup();
    for (const since of ["yesterday", "2026-02-30T00:00:00Z", 1700000000, ""]) {
      const res = await call("POST", `/v1/webhooks/${webhookId}/recover`, { key, body: { since } });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "since").message).toBeTruthy();
    }
    const missing = await call("POST", `/v1/webhooks/${webhookId}/recover`, { key, body: {} });
    expectProblem(missing, 422, "validation_failed");
    fieldError(missing, "since");
  });

  it("404 for another tenant's subscription; 409 for a disabled one", async () => {
    const a = await deliverySetup();
    const b = await deliverySetup();
    const since = new Date(Date.now() - 60_000).toISOString();
    expectProblem(await call("POST", `/v1/webhooks/${a.webhookId}/recover`, { key: b.key, body: { since } }), 404, "not_found");
    expect((await call("PATCH", `/v1/webhooks/${a.webhookId}`, { key: a.key, body: { isEnabled: false } })).status).toBe(200);
    expectProblem(await call("POST", `/v1/webhooks/${a.webhookId}/recover`, { key: a.key, body: { since } }), 409, "conflict");
  });
});
