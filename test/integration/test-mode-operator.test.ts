import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DeliveryRecord, EventRecord } from "../../src/data/records";
import { BUCKET_MS, bucketOf, bucketStart, locate, locatedId, objectName } from "../../src/data/shard-map";
import { shardStub } from "../../src/objects";
import { runShardAlarm, shardOf } from "./data-plane";
import {
  allPages,
  call,
  expectProblem,
  fieldError,
  newKey,
  newOperatorEndpoint,
  newRoomyTenant,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
  uniqueTypeName,
} from "./helpers";

/** The operator and test mode: publishing into it, endpoints' `modes`, reads with `?mode=`; test data's 7 days. */

afterEach(() => {
  vi.restoreAllMocks();
});

const DAY = 86_400_000;

async function twoModes() {
  const { key, tenant } = await newRoomyTenant();
  const test = await newKey(key, { scopes: ["api:read", "api:write"], mode: "test" });
  const type = uniqueTypeName();
  expect((await call("POST", "/v1/event-types", { key, body: { name: type } })).status).toBe(201);
  return { live: key, test: test.key, tenantId: tenant.id as string, type };
}

const modeOfLocated = (id: string) => locate(id, id.slice(0, id.indexOf("_")))?.mode ?? "live";

describe("the operator publishes into a tenant's test mode", () => {
  it("?mode=test: a test event for the tenant's test subscriptions and the operator endpoints that hear test mode", async () => {
    const queue = await stubDeliveryQueue();
    const t = await twoModes();
    const testHook = await call("POST", "/v1/webhooks", { key: t.test, body: { url: "https://t.example.com/h", eventTypes: [t.type] } });
    await call("POST", "/v1/webhooks", { key: t.live, body: { url: "https://l.example.com/h", eventTypes: [t.type] } });
    const scope = { eventTypes: [t.type], tenantIds: [t.tenantId] };
    const liveOnly = await newOperatorEndpoint({ ...scope, url: "https://ops.example.com/live" });
    const testOnly = await newOperatorEndpoint({ ...scope, url: "https://ops.example.com/test", modes: ["test"] });
    const both = await newOperatorEndpoint({ ...scope, url: "https://ops.example.com/both", modes: ["test", "live", "test"] });
    expect(liveOnly.body.modes).toEqual(["live"]);
    expect(testOnly.body.modes).toEqual(["test"]);
    expect(both.body.modes).toEqual(["live", "test"]);

    const published = await call("POST", `/admin/tenants/${t.tenantId}/events?mode=test`, {
      admin: true,
      body: { type: t.type, data: { plan: "pro" } },
    });
    expect(published.status, published.text).toBe(202);
    const eventId = published.body.id as string;
    expect(modeOfLocated(eventId)).toBe("test");
    expect(published.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([testHook.body.id]);
    expect((await call("GET", `/v1/events/${eventId}`, { key: t.test })).status).toBe(200);
    expectProblem(await call("GET", `/v1/events/${eventId}`, { key: t.live }), 404, "not_found");

    // Every delivery goes out: the operator's say the mode, in the body and the header.
    const endpoint = await stubEndpoint(new Response("ok", { status: 200 }));
    await runDeliveryConsumer(queue.sent().map((m) => ({ deliveryId: m.deliveryId, tenantId: m.tenantId })));
    const byUrl = new Map(endpoint.calls.map((c) => [c.url, c]));
    expect([...byUrl.keys()].sort()).toEqual(["https://ops.example.com/both", "https://ops.example.com/test", "https://t.example.com/h"]);
    for (const url of ["https://ops.example.com/both", "https://ops.example.com/test"]) {
      const sent = byUrl.get(url)!;
      expect(JSON.parse(sent.body)).toMatchObject({ id: eventId, tenantId: t.tenantId, mode: "test", data: { plan: "pro" } });
      expect(sent.headers.get("x-webhook-mode")).toBe("test");
    }
    // The tenant's own endpoint gets the event as it always did.
    expect(JSON.parse(byUrl.get("https://t.example.com/h")!.body)).not.toHaveProperty("mode");

    // A live publish (the default) reaches the live-only and both endpoints, saying live.
    const before = endpoint.calls.length;
    const sentBefore = queue.sent().length;
    const live = await call("POST", `/admin/tenants/${t.tenantId}/events`, { admin: true, body: { type: t.type, data: {} } });
    expect(live.status, live.text).toBe(202);
    expect(modeOfLocated(live.body.id)).toBe("live");
    await runDeliveryConsumer(
      queue
        .sent()
        .slice(sentBefore)
        .map((m) => ({ deliveryId: m.deliveryId, tenantId: m.tenantId })),
    );
    const liveCalls = endpoint.calls.slice(before).filter((c) => c.url.startsWith("https://ops.example.com/"));
    expect(liveCalls.map((c) => c.url).sort()).toEqual(["https://ops.example.com/both", "https://ops.example.com/live"]);
    for (const c of liveCalls) {
      expect(JSON.parse(c.body).mode).toBe("live");
      expect(c.headers.get("x-webhook-mode")).toBe("live");
    }

    // The operator's delivery log shows each mode with ?mode=; ids say their mode, so a lookup needs no hint.
    const testLog = await allPages(`/admin/deliveries?tenantId=${t.tenantId}&mode=test`, { admin: true });
    expect(testLog.items.map((d) => d.webhookId).sort()).toEqual([both.id, testOnly.id].sort());
    const liveLog = await allPages(`/admin/deliveries?tenantId=${t.tenantId}`, { admin: true });
    expect(liveLog.items.map((d) => d.webhookId).sort()).toEqual([both.id, liveOnly.id].sort());
    const opened = await call("GET", `/admin/deliveries/${testLog.items[0].id}`, { admin: true });
    expect(opened.status, opened.text).toBe(200);
    expect(opened.body.attempts).toHaveLength(1);
  }, 30_000);

  it("modes are checked: at least one known mode, and only on the operator's endpoints", async () => {
    const t = await twoModes();
    const empty = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/x", eventTypes: ["*"], modes: [] },
    });
    expectProblem(empty, 422, "validation_failed");
    fieldError(empty, "modes");
    const unknown = await call("POST", "/admin/webhooks", {
      admin: true,
      body: { url: "https://ops.example.com/x", eventTypes: ["*"], modes: ["staging"] },
    });
    expectProblem(unknown, 422, "validation_failed");
    expect(fieldError(unknown, "modes.0").allowed).toEqual(["live", "test"]);
    const tenants = await call("POST", "/v1/webhooks", {
      key: t.live,
      body: { url: "https://x.example.com", eventTypes: ["*"], modes: ["test"] },
    });
    expectProblem(tenants, 422, "validation_failed");
    const staging = await call("POST", `/admin/tenants/${t.tenantId}/events?mode=staging`, { admin: true, body: { type: t.type } });
    expectProblem(staging, 400, "invalid_query");
    expect(fieldError(staging, "mode").allowed).toEqual(["live", "test"]);
    // PATCH changes them; null goes back to live only.
    const hook = await newOperatorEndpoint({ eventTypes: ["*"] });
    const patched = await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { modes: ["test"] } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.modes).toEqual(["test"]);
    expect((await call("GET", `/admin/webhooks/${hook.id}`, { admin: true })).body.modes).toEqual(["test"]);
    expect((await call("PATCH", `/admin/webhooks/${hook.id}`, { admin: true, body: { modes: null } })).body.modes).toEqual(["live"]);
  }, 30_000);
});

describe("the operator reads a tenant's test data with ?mode=test", () => {
  it("webhooks and deliveries: live by default, test with ?mode=test; another mode's id is a 404", async () => {
    await stubDeliveryQueue();
    const t = await twoModes();
    const testHook = (await call("POST", "/v1/webhooks", { key: t.test, body: { url: "https://t.example.com/h", eventTypes: [t.type] } }))
      .body.id;
    const liveHook = (await call("POST", "/v1/webhooks", { key: t.live, body: { url: "https://l.example.com/h", eventTypes: [t.type] } }))
      .body.id;
    const event = await call("POST", "/v1/events", { key: t.test, body: { type: t.type, data: {} } });
    const deliveryId = event.body.deliveries[0].id as string;
    const base = `/admin/tenants/${t.tenantId}`;
    expect((await allPages(`${base}/webhooks`, { admin: true })).items.map((w) => w.id)).toEqual([liveHook]);
    expect((await allPages(`${base}/webhooks?mode=test`, { admin: true })).items.map((w) => w.id)).toEqual([testHook]);
    expect((await call("GET", `${base}/webhooks/${testHook}?mode=test`, { admin: true })).status).toBe(200);
    expectProblem(await call("GET", `${base}/webhooks/${testHook}`, { admin: true }), 404, "not_found");
    const off = await call("PATCH", `${base}/webhooks/${testHook}?mode=test`, { admin: true, body: { isEnabled: false } });
    expect(off.status, off.text).toBe(200);
    expect(off.body.isEnabled).toBe(false);
    expect((await allPages(`${base}/deliveries?mode=test`, { admin: true })).items.map((d) => d.id)).toEqual([deliveryId]);
    expect((await allPages(`${base}/deliveries`, { admin: true })).items).toEqual([]);
    expect((await call("GET", `${base}/deliveries/${deliveryId}?mode=test`, { admin: true })).status).toBe(200);
    expectProblem(await call("GET", `${base}/deliveries/${deliveryId}`, { admin: true }), 404, "not_found");
    expectProblem(await call("GET", `${base}/webhooks?mode=sandbox`, { admin: true }), 400, "invalid_query");
  }, 30_000);
});

/** A test-mode event (with one delivery) as stored `daysAgo` days ago, in that day's test object. */
async function storedTestDaysAgo(tenantId: string, webhookId: string, daysAgo: number) {
  const bucket = bucketOf(Date.now()) - daysAgo;
  const at = new Date(bucketStart(bucket) + BUCKET_MS - 60_000);
  const where = { bucket, shard: 0, mode: "test" as const };
  const event: EventRecord = { id: locatedId("evt", where), tenantId, type: "keep.me", data: "{}", sourceId: null, createdAt: at, seq: 0 };
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
  expect((await stub.publish({ tenantId, bucket, retentionDays: 7, event, deliveries: [delivery] })).kind).toBe("stored");
  return { event, delivery, stub };
}

describe("test data is kept 7 days", () => {
  it("a test publish's object drops itself 7 days after its day; live keeps EVENT_RETENTION_DAYS", async () => {
    await stubDeliveryQueue();
    const t = await twoModes();
    const testEvent = await call("POST", "/v1/events", { key: t.test, body: { type: t.type, data: {} } });
    const liveEvent = await call("POST", "/v1/events", { key: t.live, body: { type: t.type, data: {} } });
    const metaOf = (id: string) =>
      runInDurableObject(shardOf(t.tenantId, id), (_o, state) => state.storage.kv.get<{ retentionAt: number }>("meta"));
    const testBucket = locate(testEvent.body.id, "evt")!.bucket;
    const liveBucket = locate(liveEvent.body.id, "evt")!.bucket;
    expect(await metaOf(testEvent.body.id)).toMatchObject({ retentionAt: bucketStart(testBucket + 1) + 7 * DAY });
    expect(await metaOf(liveEvent.body.id)).toMatchObject({ retentionAt: bucketStart(liveBucket + 1) + 30 * DAY });
  }, 30_000);

  it("an 8-day-old test day goes whole at its alarm, and test polling never reaches back past 7 days", async () => {
    const t = await twoModes();
    const hook = (await call("POST", "/v1/webhooks", { key: t.test, body: { url: "https://t.example.com/h", eventTypes: [t.type] } })).body
      .id;
    const old = await storedTestDaysAgo(t.tenantId, hook, 8);
    const kept = await storedTestDaysAgo(t.tenantId, hook, 6);
    const polled = (await allPages("/v1/events", { key: t.test })).items.map((e) => e.id);
    expect(polled).toContain(kept.event.id);
    expect(polled).not.toContain(old.event.id);
    await runShardAlarm(t.tenantId, old.event.id);
    const left = await runInDurableObject(old.stub, (_o, state) => state.storage.kv.get("meta") ?? null);
    expect(left).toBeNull();
    expectProblem(await call("GET", `/v1/deliveries/${old.delivery.id}`, { key: t.test }), 404, "not_found");
    await runShardAlarm(t.tenantId, kept.event.id);
    expect((await call("GET", `/v1/events/${kept.event.id}`, { key: t.test })).status).toBe(200);
  }, 30_000);
});
