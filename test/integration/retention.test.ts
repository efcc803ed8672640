import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DeliveryRecord, EventRecord } from "../../src/data/records";
import { BUCKET_MS, bucketOf, bucketStart, hash32, locate, locatedId, objectName } from "../../src/data/shard-map";
import { shardStub } from "../../src/objects";
import { dataRows, runShardAlarm, shardOf, shardSql } from "./data-plane";
import { call, callWithEnv, newRoomyTenant, stubDeliveryQueue } from "./helpers";

const DAY = 86_400_000;

beforeEach(async () => {
  await stubDeliveryQueue();
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function setup() {
  const { key, tenant } = await newRoomyTenant();
  expect((await call("POST", "/v1/event-types", { key, body: { name: "keep.me" } })).status).toBe(201);
  const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/r", eventTypes: ["*"] } });
  expect(hook.status, hook.text).toBe(201);
  return { key, tenantId: tenant.id as string, webhookId: hook.body.id as string };
}

async function publish(key: string, idempotencyKey?: string) {
  const res = await call("POST", "/v1/events", {
    key,
    // The same body for a repeated key: a different one is refused as a reused key.
    body: { type: "keep.me", data: idempotencyKey ? { key: idempotencyKey } : { n: Math.random() } },
    ...(idempotencyKey && { headers: { "Idempotency-Key": idempotencyKey } }),
  });
  expect(res.status, res.text).toBe(202);
  return {
    id: res.body.id as string,
    deliveryIds: (res.body.deliveries as any[]).map((d) => d.id as string),
    replayed: res.headers.get("idempotent-replayed"),
  };
}

/** An event (with one delivery) as it was stored `daysAgo` days ago, in that day's object: what the API would have written then. */
async function storedDaysAgo(tenantId: string, webhookId: string, daysAgo: number, opts: { key?: string; retentionDays?: number } = {}) {
  const bucket = bucketOf(Date.now()) - daysAgo;
  const at = new Date(bucketStart(bucket) + BUCKET_MS - 60_000);
  const where = { bucket, shard: 0 };
  const event: EventRecord = {
    id: locatedId("evt", where),
    tenantId,
    type: "keep.me",
    data: '{"old":true}',
    sourceId: null,
    createdAt: at,
    seq: 0,
  };
  const delivery: DeliveryRecord = {
    id: locatedId("dlv", where),
    tenantId,
    eventTenantId: tenantId,
    eventId: event.id,
    eventType: event.type,
    webhookId,
    status: "succeeded",
    attempts: 1,
    nextAttemptAt: null,
    lastAttemptAt: at,
    lastStatusCode: 200,
    lastDurationMs: 5,
    createdAt: at,
    updatedAt: at,
  };
  const stub = shardStub(env, objectName(tenantId, where));
  const result = await stub.publish({
    tenantId,
    bucket,
    retentionDays: opts.retentionDays ?? 30,
    event,
    deliveries: [delivery],
    ...(opts.key && { claim: { key: opts.key, requestHash: "h", keyIdentifiesDelivery: false, elsewhere: [] } }),
  });
  expect(result.kind).toBe("stored");
  return { event, delivery, stub };
}

const metaOf = (tenantId: string, id: string) =>
  runInDurableObject(shardOf(tenantId, id), (_o, state) => state.storage.kv.get<{ retentionAt: number; bucket: number }>("meta"));

describe("retention: each day's object drops itself at its horizon", () => {
  it("an expired day goes whole (events, deliveries, attempts, claims, the alarm); the days in retention stay", async () => {
    const { key, tenantId, webhookId } = await setup();
    const recent = await publish(key);
    const old = await storedDaysAgo(tenantId, webhookId, 31, { key: "old-key" });
    // Stored (read from the object itself: whether the API still serves a 31-day-old event depends
    // on the time of day, as its age passes the 30-day horizon within its day).
    const stored = await runInDurableObject(old.stub, (_o, state) => state.storage.sql.exec("SELECT id FROM events").toArray());
    expect(stored).toEqual([{ id: old.event.id }]);

    await runShardAlarm(tenantId, old.event.id);
    expect((await call("GET", `/v1/events/${old.event.id}`, { key })).status).toBe(404);
    expect((await call("GET", `/v1/deliveries/${old.delivery.id}`, { key })).status).toBe(404);
    const left = await runInDurableObject(old.stub, (_o, state) => ({
      tables: state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
      meta: state.storage.kv.get("meta") ?? null,
    }));
    expect(left).toEqual({ tables: [], meta: null });
    expect(await runInDurableObject(old.stub, (_o, state) => state.storage.getAlarm())).toBeNull();

    // Today's object is untouched by it, and its own alarm keeps it.
    await runShardAlarm(tenantId, recent.id);
    expect((await call("GET", `/v1/events/${recent.id}`, { key })).status).toBe(200);
    expect((await call("GET", `/v1/deliveries/${recent.deliveryIds[0]}`, { key })).status).toBe(200);
  });

  it("a day in retention is kept by its alarm, and polling still returns it", async () => {
    const { key, tenantId, webhookId } = await setup();
    const kept = await storedDaysAgo(tenantId, webhookId, 29);
    await runShardAlarm(tenantId, kept.event.id);
    expect((await call("GET", `/v1/events/${kept.event.id}`, { key })).status).toBe(200);
    const polled = await call("GET", "/v1/events?limit=100", { key });
    expect(polled.body.data.map((e: any) => e.id)).toContain(kept.event.id);
  });

  it("the horizon is the end of the object's day plus EVENT_RETENTION_DAYS, fixed when it is first written", async () => {
    const { key, tenantId } = await setup();
    const first = await publish(key);
    // The day the event was stored on (read from its id: the clock may have passed midnight since).
    const bucket = locate(first.id, "evt")!.bucket;
    expect(await metaOf(tenantId, first.id)).toMatchObject({ bucket, retentionAt: bucketStart(bucket + 1) + 30 * DAY });
    expect(await runInDurableObject(shardOf(tenantId, first.id), (_o, state) => state.storage.getAlarm())).not.toBeNull();

    const other = await newRoomyTenant();
    expect((await call("POST", "/v1/event-types", { key: other.key, body: { name: "keep.me" } })).status).toBe(201);
    const res = await callWithEnv({ EVENT_RETENTION_DAYS: "3" }, "POST", "/v1/events", {
      key: other.key,
      body: { type: "keep.me", data: {} },
    });
    expect(res.status, res.text).toBe(202);
    const otherBucket = locate(res.body.id, "evt")!.bucket;
    expect(await metaOf(other.tenant.id, res.body.id)).toMatchObject({ retentionAt: bucketStart(otherBucket + 1) + 3 * DAY });
  });

  it("polling never reaches back past the horizon, whatever the cursor", async () => {
    const { key, tenantId, webhookId } = await setup();
    const tooOld = await storedDaysAgo(tenantId, webhookId, 40);
    const polled = await call("GET", "/v1/events?limit=100", { key });
    expect(polled.status).toBe(200);
    expect(polled.body.data.map((e: any) => e.id)).not.toContain(tooOld.event.id);
  });
});

describe("idempotency claims", () => {
  it("hold for 24 h: a repeat within answers with the first event, one older than 24 h publishes anew", async () => {
    const { key, tenantId } = await setup();
    const first = await publish(key, "pay-1");
    const again = await publish(key, "pay-1");
    expect(again).toMatchObject({ id: first.id, replayed: "true" });
    await shardSql(tenantId, first.id, "UPDATE claims SET created_at = ? WHERE key = ?", Date.now() - DAY - 1000, "pay-1");
    const later = await publish(key, "pay-1");
    expect(later.id).not.toBe(first.id);
    expect(later.replayed).toBeNull();
    // The new claim answers from now on.
    expect((await publish(key, "pay-1")).id).toBe(later.id);
  });

  it("a repeat just after midnight finds the claim in yesterday's object", async () => {
    const { key, tenantId, webhookId } = await setup();
    const yesterday = await storedDaysAgo(tenantId, webhookId, 1, { key: "across-midnight" });
    // The same key, the same request hash as the API computes for this body: answered with yesterday's event.
    await shardSql(tenantId, yesterday.event.id, "UPDATE claims SET request_hash = ?", await requestHash("keep.me", { old: true }));
    const res = await call("POST", "/v1/events", {
      key,
      body: { type: "keep.me", data: { old: true } },
      headers: { "Idempotency-Key": "across-midnight" },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.body.id).toBe(yesterday.event.id);
    expect(res.headers.get("idempotent-replayed")).toBe("true");
    expect(await dataRows(tenantId, "events", "id != ?", yesterday.event.id)).toEqual([]);
  });

  it("a repeat after the tenant's dataShards changed still finds the first answer", async () => {
    const { key, tenantId } = await setup();
    // A key whose shard under 8 differs from its shard under 1 (always 0).
    const idem = Array.from({ length: 50 }, (_, i) => `shard-move-${i}`).find((k) => hash32(k) % 8 !== 0)!;
    const first = await publish(key, idem);
    const patched = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { dataShards: 8 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.dataShards).toBe(8);
    const again = await publish(key, idem);
    expect(again).toMatchObject({ id: first.id, replayed: "true" });
  });
});

async function requestHash(type: string, data: unknown): Promise<string> {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${type}\n${JSON.stringify(data)}`));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
