import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { call, newRoomyTenant, unique } from "./helpers";

const DAY = 86_400_000;

beforeEach(() => {
  // The cron's sweep may enqueue deliveries; their sends stay off the network.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs the Worker's cron handler once, to completion, with `overrides` over the bindings. */
async function runCron(overrides: Record<string, string> = {}) {
  const controller = createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" });
  const ctx = createExecutionContext();
  const bindings = Object.keys(overrides).length > 0 ? { ...env, ...overrides } : env;
  await worker.scheduled(controller, bindings, ctx);
  await waitOnExecutionContext(ctx);
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>())!.n;
}

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
    body: { type: "keep.me", data: { n: Math.random() } },
    ...(idempotencyKey && { headers: { "Idempotency-Key": idempotencyKey } }),
  });
  expect(res.status, res.text).toBe(202);
  return { id: res.body.id as string, deliveryIds: (res.body.deliveries as any[]).map((d) => d.id as string) };
}

/** Moves an event (and its deliveries) back in time. */
async function age(eventId: string, ms: number) {
  const at = Date.now() - ms;
  await env.DB.batch([
    env.DB.prepare("UPDATE events SET created_at = ? WHERE id = ?").bind(at, eventId),
    env.DB.prepare("UPDATE deliveries SET created_at = ?, updated_at = ? WHERE event_id = ?").bind(at, at, eventId),
  ]);
}

/** Logs an attempt for a delivery, as the delivery engine would. */
async function logAttempt(tenantId: string, webhookId: string, deliveryId: string | null, attempt = 1) {
  await env.DB.prepare(
    `INSERT INTO delivery_attempts (id, tenant_id, delivery_id, webhook_id, attempt, at, status_code, duration_ms, response_body, error, request_headers, request_body, is_test)
     VALUES (?, ?, ?, ?, ?, ?, 500, 12, 'oops', 'http', '{}', '{}', ?)`,
  )
    .bind(unique("att"), tenantId, deliveryId, webhookId, attempt, Date.now(), deliveryId === null ? 1 : 0)
    .run();
}

describe("retention (cron)", () => {
  it("purges events older than EVENT_RETENTION_DAYS with their deliveries and attempts; recent ones stay", async () => {
    const { key, tenantId, webhookId } = await setup();
    const old1 = await publish(key, "old-key");
    const old2 = await publish(key);
    const edge = await publish(key);
    const recent = await publish(key, "recent-key");
    for (const e of [old1, old2, edge, recent]) {
      expect(e.deliveryIds).toHaveLength(1);
      await logAttempt(tenantId, webhookId, e.deliveryIds[0]!, 1);
      await logAttempt(tenantId, webhookId, e.deliveryIds[0]!, 2);
    }
    await age(old1.id, 31 * DAY);
    await age(old2.id, 400 * DAY);
    await age(edge.id, 29 * DAY);
    // Idempotency keys live 24 h: the old event's key is long expired.
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE tenant_id = ? AND key = ?")
      .bind(Date.now() - 31 * DAY, tenantId, "old-key")
      .run();

    await runCron();

    for (const gone of [old1, old2]) {
      expect((await call("GET", `/v1/events/${gone.id}`, { key })).status).toBe(404);
      expect(await count("SELECT count(*) AS n FROM events WHERE id = ?", gone.id)).toBe(0);
      expect(await count("SELECT count(*) AS n FROM deliveries WHERE event_id = ?", gone.id)).toBe(0);
      expect(await count("SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = ?", gone.deliveryIds[0])).toBe(0);
    }
    for (const kept of [edge, recent]) {
      const got = await call("GET", `/v1/events/${kept.id}`, { key });
      expect(got.status, got.text).toBe(200);
      expect(got.body.deliveries.map((d: any) => d.id)).toEqual(kept.deliveryIds);
      expect(await count("SELECT count(*) AS n FROM delivery_attempts WHERE delivery_id = ?", kept.deliveryIds[0])).toBe(2);
    }
    const list = await call("GET", "/v1/events", { key });
    expect(list.body.data.map((e: any) => e.id)).toEqual([edge.id, recent.id]);

    expect(await count("SELECT count(*) AS n FROM idempotency_keys WHERE tenant_id = ? AND key = ?", tenantId, "old-key")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM idempotency_keys WHERE tenant_id = ? AND key = ?", tenantId, "recent-key")).toBe(1);
    // The recent key still replays; the purged one starts afresh.
    const replay = await call("POST", "/v1/events", {
      key,
      body: { type: "keep.me", data: {} },
      headers: { "Idempotency-Key": "recent-key" },
    });
    expect(replay.status).toBe(422);
    expect(replay.body.code).toBe("idempotency_key_reused");
    const fresh = await call("POST", "/v1/events", { key, body: { type: "keep.me", data: {} }, headers: { "Idempotency-Key": "old-key" } });
    expect(fresh.status, fresh.text).toBe(202);
    expect(fresh.headers.get("idempotent-replayed")).toBeNull();
    expect(fresh.body.id).not.toBe(old1.id);
  });

  it("purges idempotency keys older than 24 h even when their event is kept", async () => {
    const { key, tenantId } = await setup();
    const e = await publish(key, "day-old-key");
    await publish(key, "hour-old-key");
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE tenant_id = ? AND key = ?")
      .bind(Date.now() - 25 * 3600_000, tenantId, "day-old-key")
      .run();
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = ? WHERE tenant_id = ? AND key = ?")
      .bind(Date.now() - 3600_000, tenantId, "hour-old-key")
      .run();
    await runCron();
    const keys = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE tenant_id = ? ORDER BY key")
      .bind(tenantId)
      .all<{ key: string }>();
    expect(keys.results.map((r) => r.key)).toEqual(["hour-old-key"]);
    expect((await call("GET", `/v1/events/${e.id}`, { key })).status).toBe(200);
  });

  it("honours EVENT_RETENTION_DAYS", async () => {
    const { key } = await setup();
    const tenDays = await publish(key);
    const fiveDays = await publish(key);
    await age(tenDays.id, 10 * DAY);
    await age(fiveDays.id, 5 * DAY);
    await runCron();
    // The default (30 days) keeps both.
    expect((await call("GET", `/v1/events/${tenDays.id}`, { key })).status).toBe(200);
    await runCron({ EVENT_RETENTION_DAYS: "7" });
    expect((await call("GET", `/v1/events/${tenDays.id}`, { key })).status).toBe(404);
    expect((await call("GET", `/v1/events/${fiveDays.id}`, { key })).status).toBe(200);
  });

  it("purges more than one batch in a run", async () => {
    const { tenantId, webhookId } = await setup();
    const old = Date.now() - 60 * DAY;
    const n = 1234;
    // Bulk rows straight into D1: n old events, each with a delivery and an attempt.
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       INSERT INTO events (id, tenant_id, type, data, source_id, created_at)
       SELECT 'evt_bulk' || ? || '_' || i, ?, 'keep.me', '{}', NULL, ? - i FROM seq`,
    )
      .bind(n, tenantId.slice(4), tenantId, old)
      .run();
    await env.DB.prepare(
      `INSERT INTO deliveries (id, tenant_id, event_id, event_type, webhook_id, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'dlv' || substr(id, 4), tenant_id, id, type, ?, 'failed', 4, NULL, created_at, created_at FROM events WHERE tenant_id = ?`,
    )
      .bind(webhookId, tenantId)
      .run();
    await env.DB.prepare(
      `INSERT INTO delivery_attempts (id, tenant_id, delivery_id, webhook_id, attempt, at, status_code, duration_ms, response_body, error, request_headers, request_body, is_test)
       SELECT 'att' || substr(id, 4), tenant_id, id, webhook_id, 1, created_at, 500, 5, NULL, 'http', '{}', '{}', 0 FROM deliveries WHERE tenant_id = ?`,
    )
      .bind(tenantId)
      .run();
    expect(await count("SELECT count(*) AS n FROM events WHERE tenant_id = ?", tenantId)).toBe(n);
    expect(await count("SELECT count(*) AS n FROM delivery_attempts WHERE tenant_id = ?", tenantId)).toBe(n);

    await runCron();

    expect(await count("SELECT count(*) AS n FROM events WHERE tenant_id = ?", tenantId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM deliveries WHERE tenant_id = ?", tenantId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM delivery_attempts WHERE tenant_id = ?", tenantId)).toBe(0);
  });
});

describe("retention alongside the delivery sweep", () => {
  it("old events are purged even when many overdue deliveries are pending", async () => {
    const { tenantId, webhookId } = await setup();
    const old = Date.now() - 60 * DAY;
    const n = 150;
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       INSERT INTO events (id, tenant_id, type, data, source_id, created_at)
       SELECT 'evt_sweep' || ? || '_' || i, ?, 'keep.me', '{}', NULL, ? - i FROM seq`,
    )
      .bind(n, tenantId.slice(4), tenantId, old)
      .run();
    // Pending and long overdue: the sweep will want to re-enqueue them all.
    await env.DB.prepare(
      `INSERT INTO deliveries (id, tenant_id, event_id, event_type, webhook_id, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'dlv' || substr(id, 4), tenant_id, id, type, ?, 'pending', 0, created_at, created_at, created_at FROM events WHERE tenant_id = ?`,
    )
      .bind(webhookId, tenantId)
      .run();
    await runCron();
    expect(await count("SELECT count(*) AS n FROM events WHERE tenant_id = ?", tenantId)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM deliveries WHERE tenant_id = ?", tenantId)).toBe(0);
  });
});

describe("retention is independent of the sweep", () => {
  it("a failing delivery sweep does not stop the purge", async () => {
    const { key } = await setup();
    const e = await publish(key);
    await age(e.id, 40 * DAY);
    let failures = 0;
    // A D1 binding that fails every statement about due times: the sweep's reads and writes.
    const db = env.DB;
    const failingDb = new Proxy(db, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (/next_attempt_at/.test(sql) && !/^\s*delete/i.test(sql)) {
              failures++;
              throw new Error("D1_ERROR: simulated failure");
            }
            return target.prepare(sql);
          };
        }
        const value = (target as any)[prop];
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const controller = createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" });
    const ctx = createExecutionContext();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await worker.scheduled(controller, { ...env, DB: failingDb }, ctx);
    await waitOnExecutionContext(ctx);
    expect(failures).toBeGreaterThan(0);
    expect(errors).toHaveBeenCalled();
    expect((await call("GET", `/v1/events/${e.id}`, { key })).status).toBe(404);
  });

  it("purges test-send attempts older than the retention period, and keeps recent ones", async () => {
    const { tenantId, webhookId } = await setup();
    await logAttempt(tenantId, webhookId, null);
    await logAttempt(tenantId, webhookId, null);
    const [oldId] = (
      await env.DB.prepare("SELECT id FROM delivery_attempts WHERE webhook_id = ? AND delivery_id IS NULL")
        .bind(webhookId)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
    await env.DB.prepare("UPDATE delivery_attempts SET at = ? WHERE id = ?")
      .bind(Date.now() - 31 * DAY, oldId)
      .run();
    await runCron();
    const left = await env.DB.prepare("SELECT id FROM delivery_attempts WHERE webhook_id = ? AND delivery_id IS NULL")
      .bind(webhookId)
      .all<{ id: string }>();
    expect(left.results).toHaveLength(1);
    expect(left.results[0]!.id).not.toBe(oldId);
  });
});
