import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { QueueMessage } from "../../src/data/outbox";
import { countDataRows, dataRows, shardSql } from "./data-plane";
import { call, expectProblem, fieldError, newRoomyTenant, type Result } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVT = /^evt_[0-9A-Za-z]+$/;
const DLV = /^dlv_[0-9A-Za-z]+$/;

// Queue messages may be consumed while a test runs; keep their sends off the network.
beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function createType(key: string, name: string, schema?: Record<string, unknown>) {
  const res = await call("POST", "/v1/event-types", { key, body: { name, ...(schema && { schema }) } });
  expect(res.status, res.text).toBe(201);
}

async function createWebhook(key: string, body: Record<string, unknown>): Promise<string> {
  const res = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/in", ...body } });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

async function publish(key: string, type: string, data: unknown, idempotencyKey?: string): Promise<Result> {
  return call("POST", "/v1/events", {
    key,
    body: { type, data },
    ...(idempotencyKey !== undefined && { headers: { "Idempotency-Key": idempotencyKey } }),
  });
}

async function eventCount(tenantId: string) {
  return countDataRows(tenantId, "events");
}

/** The tenant's own deliveries (an operator endpoint's would be the operator's). */
async function deliveryCount(tenantId: string) {
  return countDataRows(tenantId, "deliveries", "owner = ?", tenantId);
}

/** Backdates the idempotency claim of `key`, kept in the data shard of the event it first made. */
async function backdateClaim(tenantId: string, eventId: string, key: string, createdAt: number) {
  await shardSql(tenantId, eventId, "UPDATE claims SET created_at = ? WHERE key = ?", createdAt, key);
  const [claim] = await shardSql(tenantId, eventId, "SELECT created_at FROM claims WHERE key = ?", key);
  expect(claim?.created_at).toBe(createdAt);
}

describe("POST /v1/events: fan-out", () => {
  it("202 with one pending delivery per enabled matching subscription", async () => {
    const { key, tenant } = await newRoomyTenant({ quotas: { webhooks: 10 } });
    await createType(key, "invoice.paid");
    await createType(key, "invoice.voided");
    const all = await createWebhook(key, { eventTypes: ["*"] });
    const exact = await createWebhook(key, { eventTypes: ["invoice.voided", "invoice.paid"] });
    await createWebhook(key, { eventTypes: ["invoice.voided"] });
    await createWebhook(key, { eventTypes: ["invoice.paid"], isEnabled: false });
    const laterDisabled = await createWebhook(key, { eventTypes: ["invoice.paid"] });
    expect((await call("PATCH", `/v1/webhooks/${laterDisabled}`, { key, body: { isEnabled: false } })).status).toBe(200);
    const deleted = await createWebhook(key, { eventTypes: ["*"] });
    expect((await call("DELETE", `/v1/webhooks/${deleted}`, { key })).status).toBe(204);

    const before = Date.now();
    const data = { amount: 1250, currency: "EUR", lines: [{ sku: "a", qty: 2 }], note: null };
    const res = await publish(key, "invoice.paid", data);
    expect(res.status, res.text).toBe(202);
    expect(Object.keys(res.body).sort()).toEqual(["createdAt", "data", "deliveries", "id", "type"]);
    expect(res.body.id).toMatch(EVT);
    expect(res.body.type).toBe("invoice.paid");
    expect(res.body.data).toEqual(data);
    expect(res.body.createdAt).toMatch(ISO);
    expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(res.body.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(res.headers.get("idempotent-replayed")).toBeNull();

    const deliveries = res.body.deliveries as any[];
    expect(deliveries.map((d) => d.webhookId).sort()).toEqual([all, exact].sort());
    for (const d of deliveries) {
      expect(d.id).toMatch(DLV);
      expect(d).toMatchObject({ status: "pending", attemptCount: 0, lastAttemptAt: null, lastStatusCode: null });
    }

    // The rows are stored, one per delivery, for this event.
    const rows = await dataRows(tenant.id, "deliveries", "event_id = ?", res.body.id);
    expect(rows.map((r) => r.id).sort()).toEqual(deliveries.map((d) => d.id).sort());
    expect(rows.every((r) => r.event_type === "invoice.paid")).toBe(true);
    expect(await deliveryCount(tenant.id)).toBe(2);

    const got = await call("GET", `/v1/events/${res.body.id}`, { key });
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({ id: res.body.id, type: "invoice.paid", createdAt: res.body.createdAt, data });
    expect(got.body.deliveries.map((d: any) => d.id).sort()).toEqual(deliveries.map((d) => d.id).sort());
    expect(got.body.deliveries.map((d: any) => d.webhookId).sort()).toEqual([all, exact].sort());

    // The other type reaches `*`, the two voided subscribers, and nobody else.
    const voided = await publish(key, "invoice.voided", {});
    expect(voided.status, voided.text).toBe(202);
    expect(voided.body.deliveries).toHaveLength(3);
    expect(voided.body.deliveries.map((d: any) => d.webhookId)).toContain(all);
  });

  it("never fans out to another tenant's subscriptions", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    await createType(a.key, "shared.name");
    await createType(b.key, "shared.name");
    await createWebhook(b.key, { eventTypes: ["*"] });
    await createWebhook(b.key, { eventTypes: ["shared.name"] });
    const res = await publish(a.key, "shared.name", {});
    expect(res.status, res.text).toBe(202);
    expect(res.body.deliveries).toEqual([]);
    expect(await deliveryCount(b.tenant.id)).toBe(0);
  });

  it("with no subscribers the event is stored with no deliveries", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "lonely.event");
    const res = await publish(key, "lonely.event", [1, 2, 3]);
    expect(res.status, res.text).toBe(202);
    expect(res.body.deliveries).toEqual([]);
    expect(res.body.data).toEqual([1, 2, 3]);
    expect(await eventCount(tenant.id)).toBe(1);
    expect(await deliveryCount(tenant.id)).toBe(0);
  });

  it("accepts any JSON value as data when the type has no schema", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "any.thing");
    for (const data of ["text", 42, true, null, [], { nested: { deep: [1, { x: "y" }] } }]) {
      const res = await publish(key, "any.thing", data);
      expect(res.status, res.text).toBe(202);
      expect(res.body.data).toEqual(data);
      expect((await call("GET", `/v1/events/${res.body.id}`, { key })).body.data).toEqual(data);
    }
  });

  it("enqueues an attempt message {kind, deliveryId, tenantId} for each new delivery", async () => {
    const { key, tenant } = await newRoomyTenant({ quotas: { webhooks: 10 } });
    await createType(key, "queue.check");
    await createWebhook(key, { eventTypes: ["*"] });
    await createWebhook(key, { eventTypes: ["queue.check"] });
    const sendBatch = vi.spyOn(env.DELIVERY_QUEUE as Queue<QueueMessage>, "sendBatch");

    const res = await publish(key, "queue.check", { n: 1 }, "queue-key-1");
    expect(res.status, res.text).toBe(202);
    const ids = (res.body.deliveries as any[]).map((d) => d.id).sort();
    expect(ids).toHaveLength(2);
    const sent = sendBatch.mock.calls.flatMap(([messages]) => [...messages].map((m) => m.body));
    expect(sent.map((b) => b.deliveryId).sort()).toEqual(ids);
    for (const body of sent) expect(body).toEqual({ kind: "attempt", deliveryId: body.deliveryId, tenantId: tenant.id });

    // A replay enqueues nothing new.
    sendBatch.mockClear();
    const replay = await publish(key, "queue.check", { n: 1 }, "queue-key-1");
    expect(replay.status, replay.text).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(sendBatch).not.toHaveBeenCalled();
  });
});

describe("POST /v1/events: validation", () => {
  it("an unknown type is a 422 listing the valid names", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "b.live");
    await createType(key, "a.live");
    await createType(key, "c.archived");
    expect((await call("DELETE", "/v1/event-types/c.archived", { key })).status).toBe(204);
    const res = await publish(key, "no.such", {});
    expectProblem(res, 422, "validation_failed");
    const e = fieldError(res, "type");
    expect(e.message).toContain("no.such");
    expect(e.allowed).toEqual(["a.live", "b.live"]);
    expect(await eventCount(tenant.id)).toBe(0);
  });

  it("data that breaks the type's schema is a 422 naming data.<field>", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "invoice.paid", {
      type: "object",
      required: ["amount", "customer"],
      properties: {
        amount: { type: "number", minimum: 0 },
        currency: { type: "string", enum: ["EUR", "USD"] },
        customer: { type: "object", properties: { id: { type: "string" } } },
      },
    });
    const wrongType = await publish(key, "invoice.paid", { amount: "12", customer: {} });
    expectProblem(wrongType, 422, "validation_failed");
    fieldError(wrongType, "data.amount");

    const nested = await publish(key, "invoice.paid", { amount: 1, customer: { id: 7 } });
    expectProblem(nested, 422, "validation_failed");
    fieldError(nested, "data.customer.id");

    const badEnum = await publish(key, "invoice.paid", { amount: 1, customer: {}, currency: "GBP" });
    expectProblem(badEnum, 422, "validation_failed");
    fieldError(badEnum, "data.currency");

    const missing = await publish(key, "invoice.paid", { customer: {} });
    expectProblem(missing, 422, "validation_failed");
    expect(JSON.stringify(missing.body.errors)).toContain("amount");
    expect(missing.body.errors[0].path).toMatch(/^data/);

    const notObject = await publish(key, "invoice.paid", "a string");
    expectProblem(notObject, 422, "validation_failed");
    expect(notObject.body.errors[0].path).toMatch(/^data/);

    expect(await eventCount(tenant.id)).toBe(0);
    const ok = await publish(key, "invoice.paid", { amount: 1, customer: { id: "c1" }, currency: "EUR" });
    expect(ok.status, ok.text).toBe(202);
  });

  it("a body without type or data is a 422 naming the field", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "a.b");
    const noData = await call("POST", "/v1/events", { key, body: { type: "a.b" } });
    expectProblem(noData, 422, "validation_failed");
    fieldError(noData, "data");
    const noType = await call("POST", "/v1/events", { key, body: { data: {} } });
    expectProblem(noType, 422, "validation_failed");
    fieldError(noType, "type");
    const extra = await call("POST", "/v1/events", { key, body: { type: "a.b", data: {}, id: "evt_mine" } });
    expectProblem(extra, 422, "validation_failed");
    expectProblem(
      await call("POST", "/v1/events", { key, rawBody: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "malformed_json",
    );
  });

  it("data over 256 KiB is a 413; a large body under the limit is accepted", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "big.blob");
    const tooBig = await publish(key, "big.blob", { blob: "x".repeat(257 * 1024) });
    expectProblem(tooBig, 413, "payload_too_large");
    const wayTooBig = await publish(key, "big.blob", { blob: "x".repeat(1024 * 1024) });
    expectProblem(wayTooBig, 413, "payload_too_large");
    expect(await eventCount(tenant.id)).toBe(0);

    const large = await publish(key, "big.blob", { blob: "y".repeat(200 * 1024) });
    expect(large.status, large.text).toBe(202);
    const got = await call("GET", `/v1/events/${large.body.id}`, { key });
    expect(got.body.data.blob).toHaveLength(200 * 1024);
  });
});

describe("POST /v1/events: Idempotency-Key", () => {
  it("the same key and body return the first event, flagged as replayed, with nothing new stored", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "order.placed");
    await createWebhook(key, { eventTypes: ["*"] });

    const first = await publish(key, "order.placed", { total: 5 }, "order-1001");
    expect(first.status, first.text).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(first.body.deliveries).toHaveLength(1);
    const events = await eventCount(tenant.id);
    const deliveries = await deliveryCount(tenant.id);
    expect([events, deliveries]).toEqual([1, 1]);

    for (let i = 0; i < 2; i++) {
      const again = await publish(key, "order.placed", { total: 5 }, "order-1001");
      expect(again.status, again.text).toBe(202);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.createdAt).toBe(first.body.createdAt);
      expect(again.body.data).toEqual({ total: 5 });
      expect(again.body.deliveries.map((d: any) => d.id)).toEqual(first.body.deliveries.map((d: any) => d.id));
    }
    expect(await eventCount(tenant.id)).toBe(1);
    expect(await deliveryCount(tenant.id)).toBe(1);

    // Another key is another event.
    const other = await publish(key, "order.placed", { total: 5 }, "order-1002");
    expect(other.status, other.text).toBe(202);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(await eventCount(tenant.id)).toBe(2);
  });

  it("the same key with another body is a 422 idempotency_key_reused", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "order.placed");
    await createType(key, "order.cancelled");
    const first = await publish(key, "order.placed", { total: 5 }, "reuse-me");
    expect(first.status, first.text).toBe(202);

    const otherData = await publish(key, "order.placed", { total: 6 }, "reuse-me");
    expectProblem(otherData, 422, "idempotency_key_reused");
    const otherType = await publish(key, "order.cancelled", { total: 5 }, "reuse-me");
    expectProblem(otherType, 422, "idempotency_key_reused");
    expect(await eventCount(tenant.id)).toBe(1);

    // The key still replays its own request.
    const replay = await publish(key, "order.placed", { total: 5 }, "reuse-me");
    expect(replay.body.id).toBe(first.body.id);
  });

  it("concurrent publishes with one key store exactly one event and all answer with its id", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "race.won");
    await createWebhook(key, { eventTypes: ["race.won"] });
    const results = await Promise.all(Array.from({ length: 6 }, () => publish(key, "race.won", { n: 1 }, "race-key")));
    for (const r of results) expect(r.status, r.text).toBe(202);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(5);

    const list = await call("GET", "/v1/events", { key });
    expect(list.body.data.map((e: any) => e.id)).toEqual([...ids]);
    expect(await eventCount(tenant.id)).toBe(1);
    expect(await deliveryCount(tenant.id)).toBe(1);
    for (const r of results) expect(r.body.deliveries).toHaveLength(1);
  });

  it("two tenants use the same key independently", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    await createType(a.key, "shared.key");
    await createType(b.key, "shared.key");
    const ra = await publish(a.key, "shared.key", { who: "a" }, "same-key");
    const rb = await publish(b.key, "shared.key", { who: "b" }, "same-key");
    expect(ra.status, ra.text).toBe(202);
    expect(rb.status, rb.text).toBe(202);
    expect(rb.body.id).not.toBe(ra.body.id);
    expect(rb.headers.get("idempotent-replayed")).toBeNull();
    expect(rb.body.data).toEqual({ who: "b" });
    const rb2 = await publish(b.key, "shared.key", { who: "b" }, "same-key");
    expect(rb2.body.id).toBe(rb.body.id);
  });

  it("a key older than 24 h can be used again", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "old.key");
    const first = await publish(key, "old.key", { v: 1 }, "day-old");
    expect(first.status, first.text).toBe(202);
    // Just inside the window, it still replays.
    await backdateClaim(tenant.id, first.body.id, "day-old", Date.now() - 23 * 3600_000);
    const inside = await publish(key, "old.key", { v: 1 }, "day-old");
    expect(inside.body.id).toBe(first.body.id);
    expectProblem(await publish(key, "old.key", { v: 2 }, "day-old"), 422, "idempotency_key_reused");

    await backdateClaim(tenant.id, first.body.id, "day-old", Date.now() - 25 * 3600_000);
    const reused = await publish(key, "old.key", { v: 2 }, "day-old");
    expect(reused.status, reused.text).toBe(202);
    expect(reused.body.id).not.toBe(first.body.id);
    expect(reused.headers.get("idempotent-replayed")).toBeNull();
    expect(reused.body.data).toEqual({ v: 2 });
    // From now on the key belongs to the new event.
    const replay = await publish(key, "old.key", { v: 2 }, "day-old");
    expect(replay.body.id).toBe(reused.body.id);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await eventCount(tenant.id)).toBe(2);
  });

  it("an expired key with the same body makes a new event too", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "old.key");
    const first = await publish(key, "old.key", { v: 1 }, "k");
    await backdateClaim(tenant.id, first.body.id, "k", Date.now() - 25 * 3600_000);
    const second = await publish(key, "old.key", { v: 1 }, "k");
    expect(second.status, second.text).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
  });

  it("refuses an unusable key", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "a.b");
    for (const bad of ["has space", "x".repeat(256)]) {
      const res = await publish(key, "a.b", {}, bad);
      expect([400, 422], res.text).toContain(res.status);
      expect(JSON.stringify(res.body.errors).toLowerCase()).toContain("idempotency-key");
    }
    expect(await eventCount(tenant.id)).toBe(0);
  });
});
