import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { locate } from "../../src/data/shard-map";
import { allPages, BASE, call, expectProblem, newKey, newRoomyTenant, stubDeliveryQueue, unique, uniqueTypeName } from "./helpers";

/**
 * Test mode's data: everything a credential makes belongs to its mode, and a
 * credential sees and changes only its own mode's (another mode's id is a
 * 404), in both directions.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

/** A tenant with its live key, a test key it made, and one catalog type (the catalog is shared). */
async function twoModes(extra: Record<string, unknown> = {}) {
  const { key, tenant } = await newRoomyTenant(extra);
  const test = await newKey(key, { scopes: ["api:read", "api:write"], mode: "test" });
  const type = uniqueTypeName();
  const created = await call("POST", "/v1/event-types", { key, body: { name: type } });
  expect(created.status, created.text).toBe(201);
  return { live: key, test: test.key, tenantId: tenant.id as string, type };
}

async function subscribe(key: string, type: string, url = "https://hooks.example.com/r") {
  const res = await call("POST", "/v1/webhooks", { key, body: { url, eventTypes: [type] } });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

async function publish(key: string, type: string, data: unknown = { n: 1 }) {
  const res = await call("POST", "/v1/events", { key, body: { type, data } });
  expect(res.status, res.text).toBe(202);
  return { id: res.body.id as string, deliveries: res.body.deliveries as { id: string; webhookId: string }[] };
}

const modeOfLocated = (id: string) => locate(id, id.slice(0, id.indexOf("_")))?.mode ?? "live";

describe("events and deliveries: each mode's own", () => {
  it("a test event is found, polled and delivered only in test mode; a live one only in live mode", async () => {
    await stubDeliveryQueue();
    const t = await twoModes();
    const liveHook = await subscribe(t.live, t.type);
    const testHook = await subscribe(t.test, t.type);
    const testEvent = await publish(t.test, t.type);
    const liveEvent = await publish(t.live, t.type);
    expect(modeOfLocated(testEvent.id)).toBe("test");
    expect(modeOfLocated(liveEvent.id)).toBe("live");
    // Each event reaches its own mode's subscription only.
    expect(testEvent.deliveries.map((d) => d.webhookId)).toEqual([testHook]);
    expect(liveEvent.deliveries.map((d) => d.webhookId)).toEqual([liveHook]);

    for (const [own, other, event] of [
      [t.test, t.live, testEvent],
      [t.live, t.test, liveEvent],
    ] as const) {
      expect((await call("GET", `/v1/events/${event.id}`, { key: own })).status).toBe(200);
      expectProblem(await call("GET", `/v1/events/${event.id}`, { key: other }), 404, "not_found");
      const delivery = event.deliveries[0]!.id;
      expect((await call("GET", `/v1/deliveries/${delivery}`, { key: own })).status).toBe(200);
      expectProblem(await call("GET", `/v1/deliveries/${delivery}`, { key: other }), 404, "not_found");
      expectProblem(await call("POST", `/v1/deliveries/${delivery}/retry`, { key: other, body: {} }), 404, "not_found");
      // Filtering the other mode's list by this event finds nothing.
      const filtered = await call("GET", `/v1/deliveries?eventId=${event.id}`, { key: other });
      expect(filtered.status, filtered.text).toBe(200);
      expect(filtered.body.data).toEqual([]);
    }
    const polledTest = (await allPages("/v1/events", { key: t.test })).items.map((e) => e.id);
    const polledLive = (await allPages("/v1/events", { key: t.live })).items.map((e) => e.id);
    expect(polledTest).toEqual([testEvent.id]);
    expect(polledLive).toEqual([liveEvent.id]);
    const listedTest = (await allPages("/v1/deliveries", { key: t.test })).items.map((d) => d.id);
    const listedLive = (await allPages("/v1/deliveries", { key: t.live })).items.map((d) => d.id);
    expect(listedTest).toEqual([testEvent.deliveries[0]!.id]);
    expect(listedLive).toEqual([liveEvent.deliveries[0]!.id]);
  }, 30_000);
});

describe("webhooks: each mode's own", () => {
  it("lists, reads and changes only its own mode's; another mode's id is a 404 for every action", async () => {
    const t = await twoModes();
    const liveHook = await subscribe(t.live, t.type);
    const testHook = await subscribe(t.test, t.type);
    expect((await allPages("/v1/webhooks", { key: t.live })).items.map((w) => w.id)).toEqual([liveHook]);
    expect((await allPages("/v1/webhooks", { key: t.test })).items.map((w) => w.id)).toEqual([testHook]);
    for (const [key, id] of [
      [t.live, testHook],
      [t.test, liveHook],
    ] as const) {
      expectProblem(await call("GET", `/v1/webhooks/${id}`, { key }), 404, "not_found");
      expectProblem(await call("PATCH", `/v1/webhooks/${id}`, { key, body: { description: "x" } }), 404, "not_found");
      expectProblem(await call("POST", `/v1/webhooks/${id}/rotate-secret`, { key, body: {} }), 404, "not_found");
      expectProblem(await call("POST", `/v1/webhooks/${id}/test`, { key, body: {} }), 404, "not_found");
      expectProblem(await call("GET", `/v1/webhooks/${id}/stats`, { key }), 404, "not_found");
      expectProblem(await call("DELETE", `/v1/webhooks/${id}`, { key }), 404, "not_found");
    }
    // Untouched by the refused calls.
    expect((await call("GET", `/v1/webhooks/${testHook}`, { key: t.test })).body.description).toBeNull();
    expect((await call("GET", `/v1/webhooks/${liveHook}`, { key: t.live })).status).toBe(200);
  }, 30_000);

  it("the webhooks quota counts within a mode: the same number in each", async () => {
    const t = await twoModes({ quotas: { webhooks: 1 } });
    await subscribe(t.live, t.type);
    expectProblem(
      await call("POST", "/v1/webhooks", { key: t.live, body: { url: "https://hooks.example.com/2", eventTypes: [t.type] } }),
      409,
      "quota_exceeded",
    );
    await subscribe(t.test, t.type);
    expectProblem(
      await call("POST", "/v1/webhooks", { key: t.test, body: { url: "https://hooks.example.com/2", eventTypes: [t.type] } }),
      409,
      "quota_exceeded",
    );
  }, 30_000);
});

async function newSource(key: string, body: Record<string, unknown>) {
  const res = await call("POST", "/v1/sources", { key, body });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id as string, url: new URL(res.body.url as string) };
}

describe("sources: each mode's own, and their requests publish into it", () => {
  it("a test source's /in/ request makes a test event, logged in test mode; neither mode sees the other's", async () => {
    await stubDeliveryQueue();
    const t = await twoModes();
    const testHook = await subscribe(t.test, t.type);
    await subscribe(t.live, t.type);
    // One name in each mode: names are unique within a mode.
    const name = unique("src");
    const testSource = await newSource(t.test, { name, eventType: t.type });
    const liveSource = await newSource(t.live, { name, eventType: t.type });
    expect((await allPages("/v1/sources", { key: t.test })).items.map((s) => s.id)).toEqual([testSource.id]);
    expect((await allPages("/v1/sources", { key: t.live })).items.map((s) => s.id)).toEqual([liveSource.id]);
    expectProblem(await call("POST", "/v1/sources", { key: t.test, body: { name, eventType: t.type } }), 409, "duplicate_name");

    const res = await exports.default.fetch(
      new Request(`${BASE}${testSource.url.pathname}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ order: 7 }),
      }),
    );
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(modeOfLocated(eventId)).toBe("test");
    const event = await call("GET", `/v1/events/${eventId}`, { key: t.test });
    expect(event.status, event.text).toBe(200);
    expect(event.body.deliveries.map((d: { webhookId: string }) => d.webhookId)).toEqual([testHook]);
    expectProblem(await call("GET", `/v1/events/${eventId}`, { key: t.live }), 404, "not_found");

    const log = await call("GET", `/v1/sources/${testSource.id}/requests`, { key: t.test });
    expect(log.status, log.text).toBe(200);
    expect(log.body.data).toHaveLength(1);
    const requestId = log.body.data[0].id as string;
    expect(modeOfLocated(requestId)).toBe("test");
    expect((await call("GET", `/v1/sources/${testSource.id}/requests/${requestId}`, { key: t.test })).status).toBe(200);
    expect((await call("GET", `/v1/sources/${liveSource.id}/requests`, { key: t.live })).body.data).toEqual([]);
    // The live request log cannot reach a test request, even through the live twin.
    expectProblem(await call("GET", `/v1/sources/${liveSource.id}/requests/${requestId}`, { key: t.live }), 404, "not_found");

    for (const [key, id] of [
      [t.live, testSource.id],
      [t.test, liveSource.id],
    ] as const) {
      expectProblem(await call("GET", `/v1/sources/${id}`, { key }), 404, "not_found");
      expectProblem(await call("PATCH", `/v1/sources/${id}`, { key, body: { name: "x" } }), 404, "not_found");
      expectProblem(await call("GET", `/v1/sources/${id}/requests`, { key }), 404, "not_found");
      expectProblem(await call("POST", `/v1/sources/${id}/rotate-token`, { key, body: {} }), 404, "not_found");
      expectProblem(await call("DELETE", `/v1/sources/${id}`, { key }), 404, "not_found");
    }
  }, 30_000);

  it("the sources quota counts within a mode", async () => {
    const t = await twoModes({ quotas: { sources: 1 } });
    await newSource(t.live, { name: unique("a"), eventType: t.type });
    expectProblem(
      await call("POST", "/v1/sources", { key: t.live, body: { name: unique("b"), eventType: t.type } }),
      409,
      "quota_exceeded",
    );
    await newSource(t.test, { name: unique("c"), eventType: t.type });
    expectProblem(
      await call("POST", "/v1/sources", { key: t.test, body: { name: unique("d"), eventType: t.type } }),
      409,
      "quota_exceeded",
    );
  }, 30_000);
});

describe("replays: each mode's own", () => {
  it("a replay belongs to its mode; the other mode can neither start one on its endpoint nor see it", async () => {
    const t = await twoModes();
    const testHook = await subscribe(t.test, t.type);
    const liveHook = await subscribe(t.live, t.type);
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const started = await call("POST", "/v1/replays", { key: t.test, body: { webhookId: testHook, since, status: ["failed"] } });
    expect(started.status, started.text).toBe(202);
    const replayId = started.body.id as string;
    expect((await call("GET", `/v1/replays/${replayId}`, { key: t.test })).status).toBe(200);
    expectProblem(await call("GET", `/v1/replays/${replayId}`, { key: t.live }), 404, "not_found");
    expectProblem(await call("POST", `/v1/replays/${replayId}/cancel`, { key: t.live, body: {} }), 404, "not_found");
    expect((await allPages("/v1/replays", { key: t.live })).items).toEqual([]);
    expect((await allPages("/v1/replays", { key: t.test })).items.map((r) => r.id)).toEqual([replayId]);
    expectProblem(
      await call("POST", "/v1/replays", { key: t.live, body: { webhookId: testHook, since, status: ["failed"] } }),
      404,
      "not_found",
    );
    expectProblem(
      await call("POST", "/v1/replays", { key: t.test, body: { webhookId: liveHook, since, status: ["failed"], dryRun: true } }),
      404,
      "not_found",
    );
  }, 30_000);
});

describe("listen sessions: each mode's own", () => {
  it("a test key's session subscribes in test mode; the live key cannot resume it", async () => {
    const t = await twoModes();
    const res = await exports.default.fetch(
      new Request(`${BASE}/v1/listen?events=${t.type}`, { headers: { upgrade: "websocket", authorization: `Bearer ${t.test}` } }),
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const ready = await new Promise<any>((resolve) =>
      ws.addEventListener("message", (e) => {
        const m = JSON.parse(e.data as string);
        if (m.type === "ready") resolve(m);
      }),
    );
    expect((await call("GET", `/v1/webhooks/${ready.webhookId}`, { key: t.test })).status).toBe(200);
    expectProblem(await call("GET", `/v1/webhooks/${ready.webhookId}`, { key: t.live }), 404, "not_found");
    expect((await allPages("/v1/webhooks", { key: t.live })).items).toEqual([]);
    expectProblem(
      await call("GET", `/v1/listen?session=${ready.sessionId}`, { key: t.live, headers: { upgrade: "websocket" } }),
      404,
      "not_found",
    );
    ws.close(1000, "done");
  }, 30_000);
});
