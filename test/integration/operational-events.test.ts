import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import {
  allPages,
  call,
  deliverySetup,
  expectProblem,
  getDelivery,
  newOperatorEndpoint,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** What delivery reports (the watcher below listens to these). */
const REPORTS = ["hookgate.delivery.exhausted", "hookgate.delivery.failing", "hookgate.endpoint.disabled", "hookgate.endpoint.recovered"];
/** Every reserved type in the catalog: the reports and the alerts (test/integration/alerts-*.test.ts). */
const RESERVED = [
  "hookgate.credential.dormant",
  "hookgate.credential.expiring",
  "hookgate.credential.limit_approaching",
  "hookgate.credential.rate_limited",
  ...REPORTS.slice(0, 2),
  "hookgate.endpoint.degraded",
  ...REPORTS.slice(2),
];

async function eventsOf(key: string, type: string) {
  const r = await call("GET", `/v1/events?type=${type}&limit=100`, { key });
  expect(r.status, r.text).toBe(200);
  return r.body.data as { id: string; type: string; data: Record<string, unknown> }[];
}

/**
 * A tenant with a failing endpoint (`main`), a watcher subscribed to the four
 * operational types, and a `["*"]` subscription; the endpoints answer by host.
 */
async function watched(opts: { threshold?: number } = {}) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup({ tenant: { breakerThreshold: opts.threshold ?? 20 } });
  const watcher = await call("POST", "/v1/webhooks", {
    key: setup.key,
    body: { url: "https://watch.example.com/ops", eventTypes: REPORTS },
  });
  expect(watcher.status, watcher.text).toBe(201);
  const star = await call("POST", "/v1/webhooks", { key: setup.key, body: { url: "https://star.example.com/all", eventTypes: ["*"] } });
  expect(star.status, star.text).toBe(201);
  const main = { status: 500 };
  const watch = { status: 200 };
  const endpoint = await stubEndpoint((c) => {
    const status = c.url.startsWith("https://hooks.example.com") ? main.status : c.url.startsWith("https://watch.") ? watch.status : 200;
    return new Response(status < 300 ? "ok" : "down", { status });
  });
  /** The delivery of `eventId` to `webhookId`, from the event's deliveries. */
  const deliveryTo = async (eventId: string, webhookId: string) => {
    const e = await call("GET", `/v1/events/${eventId}`, { key: setup.key });
    expect(e.status, e.text).toBe(200);
    return (e.body.deliveries as { id: string; webhookId: string }[]).find((d) => d.webhookId === webhookId);
  };
  return { ...setup, queue, endpoint, main, watch, watcherId: watcher.body.id as string, starId: star.body.id as string, deliveryTo };
}

/** Publishes one event to the main endpoint only (the watcher and `*` get it too via `*`: pick main's delivery). */
async function mainDelivery(h: Awaited<ReturnType<typeof watched>>) {
  const p = await publishEvent(h.key, "invoice.paid");
  const d = await h.deliveryTo(p.eventId, h.webhookId);
  return d!.id;
}

describe("operational event types in the catalog", () => {
  it("every tenant's catalog lists the nine with owner hookgate, across pages; each can be read", async () => {
    const { key } = await deliverySetup();
    const { items } = await allPages("/v1/event-types", { key }, 1);
    const reserved = items.filter((t) => t.name.startsWith("hookgate."));
    expect(reserved.map((t) => t.name)).toEqual(RESERVED);
    expect(reserved.every((t) => t.owner === "hookgate" && t.archived === false && typeof t.description === "string")).toBe(true);
    // Still in name order, each once, with the tenant's own type.
    const names = items.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("invoice.paid");
    const one = await call("GET", "/v1/event-types/hookgate.endpoint.disabled", { key });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toMatchObject({ name: "hookgate.endpoint.disabled", owner: "hookgate", schema: null });
    expectProblem(await call("GET", "/v1/event-types/hookgate.endpoint.nope", { key }), 404, "not_found");
  });

  it("the operator's catalog lists them too", async () => {
    const { items } = await allPages("/admin/event-types", { admin: true }, 100);
    expect(items.filter((t) => t.owner === "hookgate").map((t) => t.name)).toEqual(RESERVED);
  });

  it("cannot be created, changed, archived or published: 403 reserved_event_type, nothing stored", async () => {
    const { key, tenantId } = await deliverySetup();
    expectProblem(await call("POST", "/v1/event-types", { key, body: { name: "hookgate.endpoint.disabled" } }), 403, "reserved_event_type");
    expectProblem(await call("POST", "/v1/event-types", { key, body: { name: "hookgate.my.own" } }), 403, "reserved_event_type");
    expectProblem(
      await call("PATCH", "/v1/event-types/hookgate.endpoint.disabled", { key, body: { description: "mine" } }),
      403,
      "reserved_event_type",
    );
    expectProblem(await call("DELETE", "/v1/event-types/hookgate.endpoint.disabled", { key }), 403, "reserved_event_type");
    expectProblem(
      await call("POST", "/admin/event-types", { admin: true, body: { name: "hookgate.ops.thing" } }),
      403,
      "reserved_event_type",
    );
    expectProblem(
      await call("PATCH", "/admin/event-types/hookgate.delivery.failing", { admin: true, body: { deprecated: true } }),
      403,
      "reserved_event_type",
    );
    expectProblem(await call("DELETE", "/admin/event-types/hookgate.delivery.failing", { admin: true }), 403, "reserved_event_type");
    const data = { webhookId: "wh_x", url: "https://x", reason: "circuit_breaker", consecutiveFailures: 1 };
    expectProblem(
      await call("POST", "/v1/events", { key, body: { type: "hookgate.endpoint.disabled", data } }),
      403,
      "reserved_event_type",
    );
    expectProblem(await call("POST", "/v1/events", { key, body: { type: "hookgate.unknown.kind", data } }), 403, "reserved_event_type");
    expectProblem(
      await call("POST", `/admin/tenants/${tenantId}/events`, { admin: true, body: { type: "hookgate.endpoint.disabled", data } }),
      403,
      "reserved_event_type",
    );
    expect(await eventsOf(key, "hookgate.endpoint.disabled")).toEqual([]);
    const one = await call("GET", "/v1/event-types/hookgate.endpoint.disabled", { key });
    expect(one.body.description).not.toBe("mine");
  });

  it("subscriptions may list them; an unknown hookgate.* name is a 422", async () => {
    const { key } = await deliverySetup();
    const ok = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://w.example.com/", eventTypes: ["hookgate.delivery.exhausted", "invoice.paid"] },
    });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.eventTypes).toEqual(["hookgate.delivery.exhausted", "invoice.paid"]);
    const bad = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://w.example.com/", eventTypes: ["hookgate.delivery.nope"] },
    });
    expectProblem(bad, 422, "validation_failed");
  });
});

describe("operational events", () => {
  it("failing at the third attempt, exhausted when the retries run out; delivered to the watcher, never to *", async () => {
    const h = await watched();
    const d = await mainDelivery(h);
    for (let i = 0; i < 2; i++) await runDeliveryConsumer([d]);
    expect(await eventsOf(h.key, "hookgate.delivery.failing")).toEqual([]);
    await runDeliveryConsumer([d]);
    const failing = await eventsOf(h.key, "hookgate.delivery.failing");
    expect(failing).toHaveLength(1);
    const event = (await getDelivery(h.key, d)).eventId as string;
    expect(failing[0]!.data).toEqual({ deliveryId: d, webhookId: h.webhookId, eventId: event, attempt: 3, statusCode: 500 });
    // Delivered to the subscription that lists it, not to "*".
    expect(await h.deliveryTo(failing[0]!.id, h.watcherId)).toBeDefined();
    expect(await h.deliveryTo(failing[0]!.id, h.starId)).toBeUndefined();
    for (let i = 0; i < 2; i++) await runDeliveryConsumer([d]);
    expect(await getDelivery(h.key, d)).toMatchObject({ status: "failed", attemptCount: 5 });
    const exhausted = await eventsOf(h.key, "hookgate.delivery.exhausted");
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]!.data).toEqual({ deliveryId: d, webhookId: h.webhookId, eventId: event, attempts: 5 });
    expect(await eventsOf(h.key, "hookgate.delivery.failing")).toHaveLength(1);
    // The watcher's delivery is signed like any other.
    const toWatcher = (await h.deliveryTo(exhausted[0]!.id, h.watcherId))!;
    const calls = h.endpoint.calls.length;
    await runDeliveryConsumer([toWatcher.id]);
    const sent = h.endpoint.calls.slice(calls).find((c) => c.url.startsWith("https://watch."))!;
    expect(sent.headers.get("x-webhook-event-type")).toBe("hookgate.delivery.exhausted");
    expect(sent.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(sent.body)).toMatchObject({ type: "hookgate.delivery.exhausted", data: { deliveryId: d, attempts: 5 } });
  });

  it("endpoint.disabled at the trip and endpoint.recovered when a probe succeeds", async () => {
    const h = await watched({ threshold: 2 });
    const d = await mainDelivery(h);
    await runDeliveryConsumer([d]);
    const trippedAt = Date.now();
    await runDeliveryConsumer([d]);
    const disabled = await eventsOf(h.key, "hookgate.endpoint.disabled");
    expect(disabled).toHaveLength(1);
    expect(disabled[0]!.data).toEqual({
      webhookId: h.webhookId,
      url: "https://hooks.example.com/x",
      reason: "circuit_breaker",
      consecutiveFailures: 2,
    });
    h.main.status = 200;
    await runInDurableObject(governorFor(env, h.webhookId), (instance) =>
      (instance as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(trippedAt + 61_000),
    );
    const probe = h.queue.sent().find((m) => m.kind === "probe")!;
    expect(probe.deliveryId).toBe(d);
    await runDeliveryConsumer([probe]);
    const recovered = await eventsOf(h.key, "hookgate.endpoint.recovered");
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.data).toMatchObject({ webhookId: h.webhookId, url: "https://hooks.example.com/x" });
    expect(recovered[0]!.data.downtimeSeconds).toBeGreaterThanOrEqual(0);
    expect(recovered[0]!.data.downtimeSeconds).toBeLessThan(60);
  });

  it("give-up: each held delivery that fails says so with delivery.exhausted", async () => {
    const h = await watched({ threshold: 2 });
    const d = await mainDelivery(h);
    const other = await mainDelivery(h);
    await runDeliveryConsumer([d]);
    await runDeliveryConsumer([d]);
    const trippedAt = Date.now();
    await runDeliveryConsumer([other]);
    expect(await eventsOf(h.key, "hookgate.delivery.exhausted")).toEqual([]);
    await runInDurableObject(governorFor(env, h.webhookId), (instance) =>
      (instance as unknown as { breakerAlarm(now: number): Promise<void> }).breakerAlarm(trippedAt + 72 * 3_600_000 + 1),
    );
    const exhausted = await eventsOf(h.key, "hookgate.delivery.exhausted");
    expect(exhausted.map((e) => e.data.deliveryId).sort()).toEqual([d, other].sort());
    expect(exhausted.find((e) => e.data.deliveryId === d)!.data).toMatchObject({ webhookId: h.webhookId, attempts: 2 });
    expect(exhausted.find((e) => e.data.deliveryId === other)!.data).toMatchObject({ attempts: 0 });
  });

  it("a delivery the dead-letter queue fails is exhausted too", async () => {
    const h = await watched();
    const d = await mainDelivery(h);
    await runDeliveryConsumer([d]);
    await runDeliveryConsumer([d], "hookgate-deliveries-dlq");
    expect(await getDelivery(h.key, d)).toMatchObject({ status: "failed", attemptCount: 1 });
    const exhausted = await eventsOf(h.key, "hookgate.delivery.exhausted");
    expect(exhausted.map((e) => e.data)).toEqual([{ deliveryId: d, webhookId: h.webhookId, eventId: expect.any(String), attempts: 1 }]);
  });

  it("a 410 emits endpoint.disabled with reason gone", async () => {
    const h = await watched();
    h.main.status = 410;
    const d = await mainDelivery(h);
    await runDeliveryConsumer([d]);
    const disabled = await eventsOf(h.key, "hookgate.endpoint.disabled");
    expect(disabled.map((e) => e.data)).toEqual([
      { webhookId: h.webhookId, url: "https://hooks.example.com/x", reason: "gone", consecutiveFailures: 1 },
    ]);
  });

  it("deliveries of hookgate.* events never emit further operational events", async () => {
    const h = await watched({ threshold: 3 });
    const d = await mainDelivery(h);
    for (let i = 0; i < 3; i++) await runDeliveryConsumer([d]);
    const failing = await eventsOf(h.key, "hookgate.delivery.failing");
    expect(failing).toHaveLength(1);
    // The watcher fails the delivery of that event 3 times (and trips its own breaker): nothing new is published.
    h.watch.status = 500;
    const toWatcher = (await h.deliveryTo(failing[0]!.id, h.watcherId))!;
    for (let i = 0; i < 3; i++) await runDeliveryConsumer([toWatcher.id]);
    expect(await getDelivery(h.key, toWatcher.id)).toMatchObject({ attemptCount: 3 });
    const watcher = await call("GET", `/v1/webhooks/${h.watcherId}`, { key: h.key });
    expect(watcher.body).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    expect(await eventsOf(h.key, "hookgate.delivery.failing")).toHaveLength(1);
    // Only the main endpoint's trip was announced.
    expect((await eventsOf(h.key, "hookgate.endpoint.disabled")).map((e) => e.data.webhookId)).toEqual([h.webhookId]);
  });

  // The operator-wide delivery list fans out over every tenant this file made: slow on a busy machine.
  it("reach operator endpoints that list them", async () => {
    const h = await watched({ threshold: 2 });
    const ops = await newOperatorEndpoint({ eventTypes: ["hookgate.endpoint.disabled"], tenantIds: [h.tenantId] });
    const everything = await newOperatorEndpoint({ eventTypes: ["*"], tenantIds: [h.tenantId] });
    const d = await mainDelivery(h);
    await runDeliveryConsumer([d]);
    await runDeliveryConsumer([d]);
    const listed = await call("GET", `/admin/deliveries?webhookId=${ops.id}&limit=100`, { admin: true });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((x: { eventType: string }) => x.eventType)).toEqual(["hookgate.endpoint.disabled"]);
    const star = await call("GET", `/admin/deliveries?webhookId=${everything.id}&limit=100`, { admin: true });
    expect(star.body.data.map((x: { eventType: string }) => x.eventType)).toEqual(["invoice.paid"]);
  }, 30_000);
});
