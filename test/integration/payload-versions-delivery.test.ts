import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { replayLaneFor } from "../../src/objects";
import {
  call,
  DELIVERY_RATE_LIMITS,
  expectProblem,
  getDelivery,
  newTenant,
  publishEvent,
  runDeliveryConsumer,
  sleep,
  stubDeliveryQueue,
  stubEndpoint,
  unique,
} from "./helpers";

afterEach(() => vi.restoreAllMocks());

/**
 * A type with three versions: 2026-01-01 (customer_id), 2026-03-01 (customer_id renamed to
 * customer), 2026-06-01 (currency added); and one endpoint per pin, each on its own URL.
 */
async function versionedSetup() {
  const { key } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS, quotas: { webhooks: 10 } });
  const name = `order_${unique("v").replaceAll("-", "_")}.created`;
  expect((await call("POST", "/v1/event-types", { key, body: { name } })).status).toBe(201);
  const add = async (body: Record<string, unknown>) =>
    expect((await call("POST", `/v1/event-types/${name}/versions`, { key, body })).status).toBe(201);
  await add({ version: "2026-01-01" });
  await add({ version: "2026-03-01", downgrade: [{ op: "move", from: "/customer", path: "/customer_id" }] });
  await add({ version: "2026-06-01", downgrade: [{ op: "remove", path: "/currency" }] });
  const endpoint = async (tag: string, version?: string) => {
    const body = { url: `https://hooks.example.com/${tag}`, eventTypes: [name], ...(version && { version }) };
    const r = await call("POST", "/v1/webhooks", { key, body });
    expect(r.status, r.text).toBe(201);
    return r.body.id as string;
  };
  const hooks = {
    newest: await endpoint("newest"),
    // A pin between two versions gets the older one; one before every version, the first.
    first: await endpoint("first", "2026-02-15"),
    middle: await endpoint("middle", "2026-03-01"),
    ancient: await endpoint("ancient", "2020-01-01"),
  };
  return { key, name, hooks };
}

type Sent = { url: string; body: any; headers: Headers };
const sentTo = (calls: { url: string; body: string; headers: Headers }[], tag: string): Sent[] =>
  calls.filter((c) => c.url.endsWith(`/${tag}`)).map((c) => ({ url: c.url, body: JSON.parse(c.body), headers: c.headers }));

const ORDER = { customer: "cus_42", amount: 1200, currency: "EUR" };

describe("deliveries at the subscription's version", () => {
  it("downgrade the data newest first through each newer version, and say which version it is", async () => {
    const s = await versionedSetup();
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    const { deliveryIds } = await publishEvent(s.key, s.name, ORDER);
    expect(deliveryIds).toHaveLength(4);
    await runDeliveryConsumer(deliveryIds);
    const one = (tag: string) => sentTo(endpoint.calls, tag)[0] as Sent;
    expect(one("newest").body).toMatchObject({ type: s.name, version: "2026-06-01", data: ORDER });
    expect(one("newest").headers.get("x-webhook-version")).toBe("2026-06-01");
    expect(one("middle").body).toMatchObject({ version: "2026-03-01", data: { customer: "cus_42", amount: 1200 } });
    expect(one("middle").headers.get("x-webhook-version")).toBe("2026-03-01");
    for (const tag of ["first", "ancient"]) {
      expect(one(tag).body.data).toEqual({ customer_id: "cus_42", amount: 1200 });
      expect(one(tag).body.version).toBe("2026-01-01");
      expect(one(tag).headers.get("x-webhook-version")).toBe("2026-01-01");
    }
    // The log shows the body as sent, at its version.
    for (const id of deliveryIds) {
      const d = await getDelivery(s.key, id);
      expect(d.status).toBe("succeeded");
      const sent = JSON.parse(d.attempts[0].requestBody);
      const hook = Object.entries(s.hooks).find(([, h]) => h === d.webhookId)?.[0] as string;
      expect(sent).toEqual(one(hook).body);
    }
  });

  it("move with the subscription: PATCH version applies to the next delivery, retries included", async () => {
    const s = await versionedSetup();
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("down", { status: 500 }));
    const { deliveryIds } = await publishEvent(s.key, s.name, ORDER);
    const byHook = new Map<string, string>();
    for (const id of deliveryIds) byHook.set((await getDelivery(s.key, id)).webhookId, id);
    const toFirst = byHook.get(s.hooks.first) as string;
    await runDeliveryConsumer([toFirst]);
    expect(sentTo(endpoint.calls, "first")[0]?.body.version).toBe("2026-01-01");
    const moved = await call("PATCH", `/v1/webhooks/${s.hooks.first}`, { key: s.key, body: { version: "2026-06-01" } });
    expect(moved.body.version).toBe("2026-06-01");
    await endpoint.answerWith(new Response("ok"));
    await runDeliveryConsumer([toFirst]);
    const retried = sentTo(endpoint.calls, "first")[1] as Sent;
    expect(retried.body).toMatchObject({ version: "2026-06-01", data: ORDER });
    expect(retried.headers.get("x-webhook-attempt")).toBe("2");
  });

  it("a patch that does not apply fails that delivery at once with version_transform, sending nothing; the others go out", async () => {
    const s = await versionedSetup();
    const queue = await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    // No currency: 2026-06-01's downgrade (remove /currency) cannot apply.
    const { deliveryIds } = await publishEvent(s.key, s.name, { customer: "cus_7", amount: 5 });
    const queuedBefore = queue.messages.length;
    const result = await runDeliveryConsumer(deliveryIds);
    expect(result.retryMessages).toEqual([]);
    expect(queue.messages.length).toBe(queuedBefore);
    expect(sentTo(endpoint.calls, "newest")).toHaveLength(1);
    for (const tag of ["middle", "first", "ancient"]) expect(sentTo(endpoint.calls, tag)).toEqual([]);
    for (const id of deliveryIds) {
      const d = await getDelivery(s.key, id);
      if (d.webhookId === s.hooks.newest) {
        expect(d.status).toBe("succeeded");
        continue;
      }
      expect(d.status).toBe("failed");
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]).toMatchObject({ attempt: 1, error: "version_transform", statusCode: null, requestBody: "" });
      expect(d.attempts[0].responseBody).toContain("2026-06-01");
      // The payload never appears in the explanation.
      expect(d.attempts[0].responseBody).not.toContain("cus_7");
    }
    // The endpoint's health does not count it.
    const stats = await call("GET", `/v1/webhooks/${s.hooks.middle}/stats`, { key: s.key });
    expect(stats.body).toMatchObject({ consecutiveFailures: 0, attempts24h: 0 });
    const failed = await call("GET", `/v1/deliveries?webhookId=${s.hooks.middle}&status=failed`, { key: s.key });
    expect(failed.body.data).toHaveLength(1);
  });

  it("test sends say the subscription's version of the type", async () => {
    const s = await versionedSetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    expect((await call("POST", `/v1/webhooks/${s.hooks.middle}/test`, { key: s.key, body: {} })).body.success).toBe(true);
    expect((await call("POST", `/v1/webhooks/${s.hooks.ancient}/test`, { key: s.key, body: {} })).body.success).toBe(true);
    const middle = sentTo(endpoint.calls, "middle")[0] as Sent;
    expect(middle.body).toMatchObject({ type: s.name, version: "2026-03-01" });
    expect(middle.headers.get("x-webhook-version")).toBe("2026-03-01");
    expect((sentTo(endpoint.calls, "ancient")[0] as Sent).body.version).toBe("2026-01-01");
  });

  it("replays and manual retries send at the subscription's version as it is then", async () => {
    const s = await versionedSetup();
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("down", { status: 500 }));
    const { deliveryIds } = await publishEvent(s.key, s.name, ORDER);
    await runDeliveryConsumer(deliveryIds.map((deliveryId) => ({ deliveryId, manual: true })));
    await endpoint.answerWith(new Response("ok"));
    const retried = deliveryIds[0] as string;
    const hookOf = (await getDelivery(s.key, retried)).webhookId as string;
    const tag = Object.entries(s.hooks).find(([, h]) => h === hookOf)?.[0] as string;
    expect((await call("PATCH", `/v1/webhooks/${hookOf}`, { key: s.key, body: { version: "2026-03-01" } })).status).toBe(200);
    expect((await call("POST", `/v1/deliveries/${retried}/retry`, { key: s.key })).status).toBe(202);
    await runDeliveryConsumer([{ deliveryId: retried, manual: true }]);
    const last = sentTo(endpoint.calls, tag).at(-1) as Sent;
    expect(last.body).toMatchObject({ version: "2026-03-01", data: { customer: "cus_42", amount: 1200 } });

    const sentBefore = sentTo(endpoint.calls, "first").length;
    const replay = await call("POST", "/v1/replays", {
      key: s.key,
      body: { webhookId: s.hooks.first, since: new Date(Date.now() - 3_600_000).toISOString() },
    });
    expect(replay.status, replay.text).toBe(202);
    const lane = replayLaneFor(env, s.hooks.first);
    for (let i = 0; i < 500; i++) {
      const running = await runInDurableObject(lane, (_o, state) => state.storage.kv.get("current") !== undefined);
      if (!running) break;
      await sleep(20);
    }
    expect(sentTo(endpoint.calls, "first")).toHaveLength(sentBefore + 1);
    const replayed = sentTo(endpoint.calls, "first").at(-1) as Sent;
    expect(replayed.body).toMatchObject({ version: "2026-01-01", data: { customer_id: "cus_42", amount: 1200 } });
    expect(replayed.headers.get("x-webhook-version")).toBe("2026-01-01");
  });
});

describe("polling with ?version=", () => {
  it("answers each event at the newest version at or before the date; without it, as published", async () => {
    const s = await versionedSetup();
    await stubDeliveryQueue();
    await stubEndpoint(new Response("ok"));
    await publishEvent(s.key, s.name, ORDER);
    await publishEvent(s.key, s.name, { customer: "cus_8", amount: 1 });
    const poll = async (q: string) => {
      const r = await call("GET", `/v1/events?type=${s.name}${q}`, { key: s.key });
      expect(r.status, r.text).toBe(200);
      return r.body.data;
    };
    const plain = await poll("");
    expect(plain.map((e: { version: string }) => e.version)).toEqual(["2026-06-01", "2026-06-01"]);
    expect(plain[0].data).toEqual(ORDER);
    const old = await poll("&version=2026-02-01");
    expect(old[0]).toMatchObject({ version: "2026-01-01", data: { customer_id: "cus_42", amount: 1200 } });
    // The second cannot be downgraded (no currency to remove): as published, saying why.
    expect(old[1]).toMatchObject({ version: "2026-06-01", data: { customer: "cus_8", amount: 1 } });
    expect(old[1].versionError).toContain("2026-06-01");
    const mid = await poll("&version=2026-05-31");
    expect(mid[0]).toMatchObject({ version: "2026-03-01", data: { customer: "cus_42", amount: 1200 } });
    expectProblem(await call("GET", `/v1/events?version=June`, { key: s.key }), 400, "invalid_query");
  });

  it("leaves an unversioned type's events as they always were", async () => {
    const { key } = await newTenant({ rateLimits: DELIVERY_RATE_LIMITS });
    const name = `plain_${unique("v").replaceAll("-", "_")}.done`;
    await call("POST", "/v1/event-types", { key, body: { name } });
    await stubDeliveryQueue();
    const endpoint = await stubEndpoint(new Response("ok"));
    const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/plain", eventTypes: [name] } });
    expect(hook.body.version).toBeNull();
    const { deliveryIds } = await publishEvent(key, name, { a: 1 });
    await runDeliveryConsumer(deliveryIds);
    const sent = endpoint.calls[0] as { body: string; headers: Headers };
    expect(Object.keys(JSON.parse(sent.body))).toEqual(["id", "type", "createdAt", "data"]);
    expect(sent.headers.get("x-webhook-version")).toBeNull();
    const polled = (await call("GET", `/v1/events?type=${name}&version=2026-01-01`, { key })).body.data;
    expect(polled[0]).toEqual(expect.not.objectContaining({ version: expect.anything() }));
    expect(polled[0].data).toEqual({ a: 1 });
  });
});
