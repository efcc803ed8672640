import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { locate } from "../../src/data/shard-map";
import { countDataRows } from "./data-plane";
import { allPages, call, expectProblem, newRoomyTenant, stubDeliveryQueue } from "./helpers";

/**
 * A tenant whose events are spread over several data shards: every read
 * (polling, lookups, delivery lists, source request logs) covers all of
 * them, in order, with cursors that survive a change of `dataShards`.
 */

beforeEach(async () => {
  await stubDeliveryQueue();
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok"));
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function shardedTenant(dataShards: number) {
  const { key, tenant } = await newRoomyTenant({ dataShards });
  expect(tenant.dataShards).toBe(dataShards);
  for (const name of ["order.created", "order.paid"])
    expect((await call("POST", "/v1/event-types", { key, body: { name } })).status).toBe(201);
  const hook = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/s", eventTypes: ["*"] } });
  expect(hook.status, hook.text).toBe(201);
  return { key, tenantId: tenant.id as string, webhookId: hook.body.id as string };
}

async function publish(key: string, n: number, type = "order.created") {
  const res = await call("POST", "/v1/events", { key, body: { type, data: { n } } });
  expect(res.status, res.text).toBe(202);
  return { id: res.body.id as string, deliveryId: res.body.deliveries[0].id as string };
}

/** Polls from `cursor` until a page comes back without `nextCursor`; returns the ids and the poll cursor. */
async function pollAll(key: string, cursor?: string, limit = 7) {
  const ids: string[] = [];
  let at = cursor;
  for (let i = 0; i < 100; i++) {
    const res = await call("GET", `/v1/events?limit=${limit}${at ? `&cursor=${at}` : ""}`, { key });
    expect(res.status, res.text).toBe(200);
    ids.push(...res.body.data.map((e: any) => e.id));
    at = res.body.pollCursor;
    if (!res.body.nextCursor) return { ids, pollCursor: at! };
    expect(res.body.nextCursor).toBe(res.body.pollCursor);
  }
  throw new Error("polling did not end");
}

describe("a tenant with dataShards: 4", () => {
  it("spreads new events over its shards; each id names its shard", async () => {
    const { key, tenantId } = await shardedTenant(4);
    const published = [];
    for (let i = 0; i < 40; i++) published.push(await publish(key, i));
    const shards = new Set(published.map((p) => locate(p.id, "evt")!.shard));
    expect(shards.size).toBeGreaterThan(1);
    for (const s of shards) expect(s).toBeLessThan(4);
    // Each event with its deliveries in one object: the delivery's id names the same shard.
    for (const p of published) expect(locate(p.deliveryId, "dlv")).toEqual(locate(p.id, "evt"));
    expect(await countDataRows(tenantId, "events")).toBe(40);
  });

  it("polling returns every event exactly once, in time order, across shards and pages", async () => {
    const { key } = await shardedTenant(4);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await publish(key, i)).id);
    const { ids: polled, pollCursor } = await pollAll(key);
    expect(polled).toEqual(ids);

    // Newer events, some published while paging: none skipped, none repeated.
    const more: string[] = [];
    for (let i = 0; i < 5; i++) more.push((await publish(key, 100 + i)).id);
    const first = await call("GET", `/v1/events?limit=3&cursor=${pollCursor}`, { key });
    expect(first.body.data.map((e: any) => e.id)).toEqual(more.slice(0, 3));
    for (let i = 0; i < 5; i++) more.push((await publish(key, 200 + i)).id);
    const rest = await pollAll(key, first.body.pollCursor, 4);
    expect(rest.ids).toEqual(more.slice(3));
    // Nothing new: an empty page, the same position.
    const idle = await call("GET", `/v1/events?cursor=${rest.pollCursor}`, { key });
    expect(idle.body).toMatchObject({ data: [], nextCursor: null, pollCursor: rest.pollCursor });
  });

  it("a cursor stays valid when dataShards changes, both ways", async () => {
    const { key, tenantId } = await shardedTenant(4);
    const before: string[] = [];
    for (let i = 0; i < 12; i++) before.push((await publish(key, i)).id);
    const { pollCursor } = await pollAll(key);
    const up = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { dataShards: 16 } });
    expect(up.status, up.text).toBe(200);
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push((await publish(key, 50 + i)).id);
    expect(after.some((id) => locate(id, "evt")!.shard >= 4)).toBe(true);
    const down = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { dataShards: 1 } });
    expect(down.body.dataShards).toBe(1);
    const later = (await publish(key, 99)).id;
    expect(locate(later, "evt")!.shard).toBe(0);
    // Reads still cover the 16 shards the tenant had.
    expect((await pollAll(key, pollCursor)).ids).toEqual([...after, later]);
    expect((await pollAll(key)).ids).toEqual([...before, ...after, later]);
    for (const id of after) expect((await call("GET", `/v1/events/${id}`, { key })).status).toBe(200);
  });

  it("filters by type and time across shards", async () => {
    const { key } = await shardedTenant(4);
    const paid: string[] = [];
    for (let i = 0; i < 12; i++) {
      const p = await publish(key, i, i % 3 === 0 ? "order.paid" : "order.created");
      if (i % 3 === 0) paid.push(p.id);
    }
    const res = await call("GET", "/v1/events?type=order.paid&limit=100", { key });
    expect(res.body.data.map((e: any) => e.id)).toEqual(paid);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await call("GET", `/v1/events?since=${future}`, { key })).body.data).toEqual([]);
  });

  it("the delivery log merges shards newest first; pages cover every delivery once", async () => {
    const { key, webhookId } = await shardedTenant(4);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await publish(key, i)).deliveryId);
    const { items, pages } = await allPages("/v1/deliveries", { key }, 6);
    expect(pages).toBe(5);
    expect(items.map((d: any) => d.id)).toEqual([...ids].reverse());
    const times = items.map((d: any) => Date.parse(d.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const byWebhook = await call("GET", `/v1/deliveries?webhookId=${webhookId}&status=pending&limit=100`, { key });
    expect(byWebhook.body.data).toHaveLength(25);
  });

  it("another tenant's ids are 404 everywhere, though they name a bucket and shard", async () => {
    const a = await shardedTenant(4);
    const b = await shardedTenant(4);
    const p = await publish(a.key, 1);
    expectProblem(await call("GET", `/v1/events/${p.id}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("GET", `/v1/deliveries/${p.deliveryId}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/deliveries/${p.deliveryId}/retry`, { key: b.key }), 404, "not_found");
    expect((await call("GET", `/v1/deliveries?eventId=${p.id}`, { key: b.key })).body.data).toEqual([]);
    expect((await call("GET", "/v1/events", { key: b.key })).body.data).toEqual([]);
    expect((await call("GET", `/v1/events/${p.id}`, { key: a.key })).status).toBe(200);
  });
});

describe("dataShards on the tenant", () => {
  it("defaults to 1, is shown, and only takes 1..64", async () => {
    const { tenant } = await newRoomyTenant();
    expect(tenant.dataShards).toBe(1);
    for (const bad of [0, 65, 2.5, "4", null]) {
      const res = await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { dataShards: bad } });
      expectProblem(res, 422, "validation_failed");
    }
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.dataShards).toBe(1);
    const ok = await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { dataShards: 64 } });
    expect(ok.body.dataShards).toBe(64);
  });
});
