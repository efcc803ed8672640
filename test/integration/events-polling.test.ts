import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bucketStart, locate } from "../../src/data/shard-map";
import { shardSql } from "./data-plane";
import { call, expectProblem, fieldError, newKey, newRoomyTenant, type Result } from "./helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

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

async function publish(key: string, type: string, data: unknown, idempotencyKey?: string): Promise<Result> {
  return call("POST", "/v1/events", {
    key,
    body: { type, data },
    ...(idempotencyKey !== undefined && { headers: { "Idempotency-Key": idempotencyKey } }),
  });
}

async function published(key: string, type: string, data: unknown = {}): Promise<string> {
  const res = await publish(key, type, data);
  expect(res.status, res.text).toBe(202);
  return res.body.id;
}

describe("GET /v1/events (polling)", () => {
  it("lists ascending, filters by type, limits and pages with an opaque cursor", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "poll.a");
    await createType(key, "poll.b");
    const ids: { id: string; type: string }[] = [];
    for (let i = 0; i < 7; i++) {
      const type = i % 3 === 0 ? "poll.b" : "poll.a";
      ids.push({ id: await published(key, type, { i }), type });
    }

    const all = await call("GET", "/v1/events", { key });
    expect(all.status, all.text).toBe(200);
    expect(all.body.data.map((e: any) => e.id)).toEqual(ids.map((e) => e.id));
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.data[0]).toEqual({ id: ids[0]!.id, type: "poll.b", createdAt: expect.stringMatching(ISO), data: { i: 0 } });
    expect(all.body.data[0]).not.toHaveProperty("deliveries");
    const times = all.body.data.map((e: any) => Date.parse(e.createdAt));
    expect([...times].sort((x, y) => x - y)).toEqual(times);

    const onlyB = await call("GET", "/v1/events?type=poll.b", { key });
    expect(onlyB.body.data.map((e: any) => e.id)).toEqual(ids.filter((e) => e.type === "poll.b").map((e) => e.id));
    expect((await call("GET", "/v1/events?type=poll.none", { key })).body.data).toEqual([]);

    const first = await call("GET", "/v1/events?limit=3", { key });
    expect(first.body.data.map((e: any) => e.id)).toEqual(ids.slice(0, 3).map((e) => e.id));
    expect(typeof first.body.nextCursor).toBe("string");
    expect(first.body.nextCursor).not.toContain("evt_");
    const second = await call("GET", `/v1/events?limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`, { key });
    expect(second.body.data.map((e: any) => e.id)).toEqual(ids.slice(3, 6).map((e) => e.id));
    const third = await call("GET", `/v1/events?limit=3&cursor=${encodeURIComponent(second.body.nextCursor)}`, { key });
    expect(third.body.data.map((e: any) => e.id)).toEqual(ids.slice(6).map((e) => e.id));
    expect(third.body.nextCursor).toBeNull();

    // Type filter and cursor together.
    const aIds = ids.filter((e) => e.type === "poll.a").map((e) => e.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Result = await call("GET", `/v1/events?type=poll.a&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        key,
      });
      seen.push(...res.body.data.map((e: any) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(aIds);
  });

  it("filters by since (inclusive) and until (exclusive)", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "time.t");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await published(key, "time.t", { i }));
    // An event's time stays within the day of its data shard: noon of that day, and the hours after it.
    const base = bucketStart(locate(ids[0]!, "evt")!.bucket) + 12 * 3600_000;
    for (const [i, id] of ids.entries()) {
      await shardSql(tenant.id, id, "UPDATE events SET created_at = ? WHERE id = ?", base + i * 3600_000, id);
    }
    const at = (h: number) => new Date(base + h * 3600_000).toISOString();
    const list = async (q: string) => {
      const res = await call("GET", `/v1/events?${q}`, { key });
      expect(res.status, res.text).toBe(200);
      return res.body.data.map((e: any) => e.id);
    };
    expect(await list(`since=${at(1)}`)).toEqual(ids.slice(1));
    expect(await list(`until=${at(3)}`)).toEqual(ids.slice(0, 3));
    expect(await list(`since=${at(1)}&until=${at(3)}`)).toEqual(ids.slice(1, 3));
    expect(await list(`since=${at(4)}`)).toEqual([]);
    // Offsets other than Z are understood: 14:00+01:00 is 13:00Z.
    const day = new Date(base).toISOString().slice(0, 10);
    expect(await list(`since=${encodeURIComponent(`${day}T14:00:00+01:00`)}`)).toEqual(ids.slice(1));
    const got = await call("GET", `/v1/events/${ids[2]}`, { key });
    expect(got.body.createdAt).toBe(at(2));
  });

  it("refuses a bad since, until, limit or cursor with 400 invalid_query", async () => {
    const { key } = await newRoomyTenant();
    for (const [q, path] of [
      ["since=yesterday", "since"],
      ["since=2024-13-45T00:00:00Z", "since"],
      ["until=12345", "until"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["cursor=garbage", "cursor"],
    ]) {
      const res = await call("GET", `/v1/events?${q}`, { key });
      expectProblem(res, 400, "invalid_query");
      fieldError(res, path!);
    }
  });

  it("pages through events published between pages: each exactly once, in order", async () => {
    const { key } = await newRoomyTenant();
    await createType(key, "page.p");
    const publishedIds: string[] = [];
    const publishMany = async (n: number) => {
      for (let i = 0; i < n; i++) publishedIds.push(await published(key, "page.p", { n: publishedIds.length }));
    };
    await publishMany(10);

    const seen: string[] = [];
    let cursor: string | null = null;
    // While paging, publish more between (and during) page reads.
    for (let round = 0; round < 3; round++) {
      const [page]: [Result, unknown] = await Promise.all([
        call("GET", `/v1/events?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { key }),
        publishMany(3),
      ]);
      expect(page.status, page.text).toBe(200);
      expect(page.body.data).toHaveLength(5);
      seen.push(...page.body.data.map((e: any) => e.id));
      cursor = page.body.nextCursor;
      expect(cursor).not.toBeNull();
    }
    await publishMany(2);
    let guard = 0;
    while (cursor && guard++ < 20) {
      const page: Result = await call("GET", `/v1/events?limit=5&cursor=${encodeURIComponent(cursor)}`, { key });
      seen.push(...page.body.data.map((e: any) => e.id));
      cursor = page.body.nextCursor;
    }
    expect(publishedIds).toHaveLength(21);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(publishedIds);
  });

  it("an event id stays valid as a cursor position when earlier events are gone", async () => {
    const { key, tenant } = await newRoomyTenant();
    await createType(key, "gap.g");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await published(key, "gap.g"));
    const first = await call("GET", "/v1/events?limit=2", { key });
    // The event the cursor points at disappears (e.g. retention) before the next page is read.
    await shardSql(tenant.id, ids[1]!, "DELETE FROM events WHERE id = ?", ids[1]!);
    expect(await shardSql(tenant.id, ids[1]!, "SELECT id FROM events WHERE id = ?", ids[1]!)).toEqual([]);
    const next = await call("GET", `/v1/events?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`, { key });
    expect(next.body.data.map((e: any) => e.id)).toEqual(ids.slice(2));
  });
});

describe("events: tenants and scopes", () => {
  it("another tenant's event is a 404 and never listed", async () => {
    const a = await newRoomyTenant();
    const b = await newRoomyTenant();
    await createType(a.key, "mine.only");
    await createType(b.key, "mine.only");
    const id = await published(a.key, "mine.only", { secret: "a" });
    expectProblem(await call("GET", `/v1/events/${id}`, { key: b.key }), 404, "not_found");
    expect((await call("GET", "/v1/events", { key: b.key })).body.data).toEqual([]);
    expect((await call("GET", "/v1/events?type=mine.only", { key: b.key })).body.data).toEqual([]);
    expectProblem(await call("GET", "/v1/events/evt_doesnotexist", { key: a.key }), 404, "not_found");
    // B cannot publish A's types either when B's catalog lacks them.
    const c = await newRoomyTenant();
    const res = await publish(c.key, "mine.only", {});
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "type").allowed).toEqual([]);
  });

  it("publishing needs events:write, polling events:read", async () => {
    const { key: admin } = await newRoomyTenant();
    await createType(admin, "scope.s");
    const id = await published(admin, "scope.s");
    const reader = await newKey(admin, { scopes: ["events:read"] });
    const writer = await newKey(admin, { scopes: ["events:write"] });

    const denied = await publish(reader.key, "scope.s", {});
    expectProblem(denied, 403, "insufficient_scope");
    expect(denied.body.requiredScope).toBe("events:write");
    expect((await call("GET", "/v1/events", { key: reader.key })).status).toBe(200);
    expect((await call("GET", `/v1/events/${id}`, { key: reader.key })).status).toBe(200);

    expect((await publish(writer.key, "scope.s", {})).status).toBe(202);
    const noRead = await call("GET", `/v1/events/${id}`, { key: writer.key });
    expectProblem(noRead, 403, "insufficient_scope");
    expect(noRead.body.requiredScope).toBe("events:read");
  });
});

describe("OpenAPI", () => {
  it("documents the event, event type and webhook routes", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status, res.text).toBe(200);
    const paths = Object.keys(res.body.paths);
    for (const p of ["/v1/events", "/v1/events/{id}", "/v1/event-types", "/v1/event-types/{name}", "/v1/webhooks", "/v1/webhooks/{id}"]) {
      expect(paths).toContain(p);
    }
    expect(res.body.paths["/v1/events"].post.parameters.map((p: any) => p.name.toLowerCase())).toContain("idempotency-key");
  });
});
