import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SESSION_KEPT_MS } from "../../src/common/listen-protocol";
import type { QueueBody } from "../../src/data/outbox";
import { verifyWebhook } from "../../src/tools/verify/index";
import { deliveryRow } from "./data-plane";
import {
  BASE,
  call,
  callWithEnv,
  DELIVERY_RATE_LIMITS,
  eventually,
  expectProblem,
  getDelivery,
  newKey,
  newRoomyTenant,
  publishEvent,
  runDeliveryConsumer,
  stubDeliveryQueue,
} from "./helpers";

/**
 * GET /v1/listen over a real WebSocket inside workerd: the session's subscription, its
 * deliveries down the socket with the CLI's answer as the attempt's result, waiting while
 * offline, resuming in order, replacement, expiry, and the refusals.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

type Conn = {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  next(type: string, after?: number): Promise<any>;
  send(message: unknown): void;
};

/** A connection with the key in its Authorization header, or (`firstMessage`) in its first message. */
async function connect(key: string, query = "", opts: { firstMessage?: boolean } = {}): Promise<Conn> {
  const headers: Record<string, string> = { upgrade: "websocket" };
  if (!opts.firstMessage) headers.authorization = `Bearer ${key}`;
  const res = await exports.default.fetch(new Request(`${BASE}/v1/listen${query}`, { headers }));
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket;
  ws.accept();
  const messages: any[] = [];
  ws.addEventListener("message", (e) => messages.push(JSON.parse(e.data as string)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const next = (type: string, after = 0) => eventually(async () => messages.slice(after).find((m) => m.type === type), 100, 20);
  if (opts.firstMessage) ws.send(JSON.stringify({ type: "auth", key }));
  return { ws, messages, closed, next, send: (m) => ws.send(JSON.stringify(m)) };
}

const answer = (d: any, status = 200, body = "ok") => ({
  type: "result",
  deliveryId: d.deliveryId,
  attempt: d.attempt,
  status,
  body,
  durationMs: 12,
});

/** A tenant with an event type, and a listen session on it. */
async function listenTenant() {
  const { key, tenant } = await newRoomyTenant({ rateLimits: DELIVERY_RATE_LIMITS });
  expect((await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid" } })).status).toBe(201);
  return { key, tenantId: tenant.id as string };
}

async function session(query = "?events=invoice.paid") {
  const setup = await listenTenant();
  const queue = await stubDeliveryQueue();
  const conn = await connect(setup.key, query);
  const ready = await conn.next("ready");
  return { ...setup, queue, conn, ready };
}

/** Runs the consumer on a batch with other vars (a short delivery timeout). */
async function consumeWith(overrides: Record<string, string>, bodies: QueueBody[]) {
  const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
  const worker = (await import("../../src/index")).default;
  const batch = createMessageBatch<QueueBody>(
    "hookgate-deliveries",
    bodies.map((body, i) => ({ id: `m-${Date.now()}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<typeof env, QueueBody>)(batch, { ...env, ...overrides }, ctx);
  return getQueueResult(batch, ctx);
}

const sessionObject = (sessionId: string) => env.LISTEN_SESSION.get(env.LISTEN_SESSION.idFromName(sessionId));

/** The session object's stored state (its meta row). */
async function sessionState(sessionId: string): Promise<{ disconnectedAt: number | null } | null> {
  const rows = await runInDurableObject(sessionObject(sessionId) as DurableObjectStub, (_o, state) =>
    state.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'session'").toArray(),
  );
  return rows[0] ? JSON.parse(rows[0].v) : null;
}

/** Waits until the session's object has seen its connection end. */
const disconnected = (sessionId: string) => eventually(async () => ((await sessionState(sessionId))?.disconnectedAt ? true : undefined));

describe("GET /v1/listen: the session", () => {
  it("creates a cli-managed subscription, listed, outside the quota, with a fresh whsec_ secret sent on ready", async () => {
    const { key } = await newRoomyTenant({ quotas: { webhooks: 1 } });
    expect((await call("POST", "/v1/event-types", { key, body: { name: "invoice.paid" } })).status).toBe(201);
    expect((await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/a", eventTypes: ["*"] } })).status).toBe(201);
    const conn = await connect(key, "?events=invoice.paid");
    const ready = await conn.next("ready");
    expect(ready.sessionId).toMatch(/^lsn_[A-Za-z0-9]{20}$/);
    expect(ready.secret).toMatch(/^whsec_/);
    expect(ready.events).toEqual(["invoice.paid"]);
    const list = await call("GET", "/v1/webhooks", { key });
    const cli = list.body.data.find((w: any) => w.id === ready.webhookId);
    expect(cli).toMatchObject({
      managedBy: "cli",
      url: `cli:${ready.sessionId}`,
      eventTypes: ["invoice.paid"],
      secretLast4: ready.secret.slice(-4),
    });
    // The quota (1) is still full with the one real endpoint: the session did not count, and does not make room.
    expectProblem(
      await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/b", eventTypes: ["*"] } }),
      409,
      "quota_exceeded",
    );
    // A second session is fine too.
    const other = await connect(key);
    expect((await other.next("ready")).events).toEqual(["*"]);
    conn.ws.close(1000);
    other.ws.close(1000);
  });

  it("the cli: URL is the route's alone: POST and PATCH to one are refused, the session's subscription takes only isEnabled", async () => {
    const { key, ready, conn } = await session();
    const webhookId = (await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/x", eventTypes: ["*"] } })).body
      .id;
    const posted = await call("POST", "/v1/webhooks", { key, body: { url: `cli:${ready.sessionId}`, eventTypes: ["*"] } });
    expectProblem(posted, 422, "validation_failed");
    expect(posted.body.errors[0]).toMatchObject({ path: "url", message: expect.stringMatching(/hookgate listen/) });
    expectProblem(
      await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { url: `cli:${ready.sessionId}` } }),
      422,
      "validation_failed",
    );
    expectProblem(
      await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/c", eventTypes: ["*"], managedBy: "cli" } }),
      422,
      "validation_failed",
    );
    const patched = await call("PATCH", `/v1/webhooks/${ready.webhookId}`, { key, body: { url: "https://hooks.example.com/d" } });
    expectProblem(patched, 403, "managed_subscription");
    expect(patched.body.detail).toContain("hookgate listen");
    expect((await call("GET", `/v1/webhooks/${ready.webhookId}`, { key })).body.url).toBe(`cli:${ready.sessionId}`);
    conn.ws.close(1000);
  });

  it("refuses: no key or a bad key 401, webhooks:read 403, a plain GET 426, another tenant's or an unknown session 404, an unknown type 422", async () => {
    const { key } = await listenTenant();
    // Anonymous: 401 (an anonymous upgrade may still bring its key in the first message: below).
    const anon = await call("GET", "/v1/listen?session=lsn_AAAAAAAAAAAAAAAAAAAA");
    expectProblem(anon, 401, "unauthorized");
    expect(anon.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectProblem(await call("GET", "/v1/listen", { key: "hg_nope", headers: { upgrade: "websocket" } }), 401, "invalid_credential");
    const reader = await newKey(key, { scopes: ["webhooks:read"] });
    const refused = await call("GET", "/v1/listen", { key: reader.key, headers: { upgrade: "websocket" } });
    expectProblem(refused, 403, "insufficient_scope");
    expect(refused.body.requiredScope).toBe("webhooks:write");
    expectProblem(await call("GET", "/v1/listen", { key }), 426, "upgrade_required");

    const theirs = await session();
    const cross = `?session=${theirs.ready.sessionId}`;
    expectProblem(await call("GET", `/v1/listen${cross}`, { key }), 404, "not_found");
    expectProblem(await call("GET", `/v1/listen${cross}`, { key, headers: { upgrade: "websocket" } }), 404, "not_found");
    expectProblem(
      await call("GET", "/v1/listen?session=lsn_AAAAAAAAAAAAAAAAAAAA", { key, headers: { upgrade: "websocket" } }),
      404,
      "not_found",
    );
    expectProblem(await call("GET", "/v1/listen?session=nope", { key, headers: { upgrade: "websocket" } }), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/listen?events=no.such", { key, headers: { upgrade: "websocket" } }), 422, "validation_failed");
    // Documented, with the session's subscription's managedBy among the options.
    const doc = (await call("GET", "/openapi.json")).body;
    expect(doc.paths["/v1/listen"].get.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(
      doc.components.schemas.Webhook.properties.managedBy.anyOf?.[0]?.enum ?? doc.components.schemas.Webhook.properties.managedBy.enum,
    ).toContain("cli");
    // Nothing was created by the refusals.
    const list = await call("GET", "/v1/webhooks", { key });
    expect(list.body.data.filter((w: any) => w.managedBy === "cli")).toEqual([]);
    theirs.conn.ws.close(1000);
  });
});

describe("GET /v1/listen: deliveries down the socket", () => {
  it("a delivery goes down signed as over HTTP; the CLI's answer is the attempt's result", async () => {
    const { key, conn, ready } = await session();
    const { deliveryIds, eventId } = await publishEvent(key, "invoice.paid", { amount: 7 });
    const run = runDeliveryConsumer([deliveryIds[0]!]);
    const d = await conn.next("delivery");
    expect(d).toMatchObject({ deliveryId: deliveryIds[0], attempt: 1, eventId, eventType: "invoice.paid" });
    expect(d.headers["X-Webhook-Attempt"]).toBe("1");
    const verified = await verifyWebhook({ secret: ready.secret, headers: d.headers, body: d.body });
    expect(verified).toMatchObject({ id: eventId, type: "invoice.paid", data: { amount: 7 } });
    conn.send(answer(d, 201, "x".repeat(5000)));
    const result = await run;
    expect(result.ackAll || result.explicitAcks.length === 1).toBe(true);
    const delivery = await getDelivery(key, deliveryIds[0]!);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, statusCode: 201, error: null });
    expect(delivery.attempts[0].durationMs).toBeLessThanOrEqual(12);
    expect(delivery.attempts[0].responseBody).toHaveLength(4096);
    conn.ws.close(1000);
  });

  it("a local 500 is a failed attempt (http), retried on the schedule", async () => {
    const { key, conn } = await session();
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const run = runDeliveryConsumer([deliveryIds[0]!]);
    conn.send(answer(await conn.next("delivery"), 500, "boom"));
    const result = await run;
    expect(result.retryMessages[0]?.delaySeconds).toBeGreaterThanOrEqual(54);
    const delivery = await getDelivery(key, deliveryIds[0]!);
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0]).toMatchObject({ statusCode: 500, error: "http", responseBody: "boom" });
    conn.ws.close(1000);
  });

  it("no answer within DELIVERY_TIMEOUT_MS: a failed attempt (timeout)", async () => {
    const { key, conn, tenantId } = await session();
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const result = await consumeWith({ DELIVERY_TIMEOUT_MS: "300" }, [{ deliveryId: deliveryIds[0]!, tenantId }]);
    expect(conn.messages.some((m) => m.type === "delivery")).toBe(true);
    expect(result.retryMessages).toHaveLength(1);
    const delivery = await getDelivery(key, deliveryIds[0]!);
    expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: "timeout" });
    // A late answer changes nothing.
    conn.send(answer(conn.messages.find((m) => m.type === "delivery")));
    expect((await getDelivery(key, deliveryIds[0]!)).attempts).toHaveLength(1);
    conn.ws.close(1000);
  });

  it("a socket that drops before answering: a failed attempt (connection), then a retry", async () => {
    const { key, conn } = await session();
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const run = runDeliveryConsumer([deliveryIds[0]!]);
    await conn.next("delivery");
    conn.ws.close(1001, "gone");
    const result = await run;
    expect(result.retryMessages).toHaveLength(1);
    const delivery = await getDelivery(key, deliveryIds[0]!);
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, statusCode: null, error: "connection" });
  });
});

describe("GET /v1/listen: offline, resume, replace, expiry", () => {
  it("while no CLI is connected deliveries wait (no attempt); resuming the session receives them in order", async () => {
    const { key, conn, ready, queue } = await session();
    conn.ws.close(1000);
    await conn.closed;
    await disconnected(ready.sessionId);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await publishEvent(key, "invoice.paid", { n })).deliveryIds[0]!);
    const offline = await runDeliveryConsumer(ids);
    expect(offline.retryMessages).toEqual([]);
    for (const id of ids) {
      const d = await getDelivery(key, id);
      expect(d.status).toBe("pending");
      expect(d.attempts).toEqual([]);
      expect((await deliveryRow(id))?.attempts).toBe(0);
    }
    const before = queue.sent().length;
    const again = await connect(key, `?session=${ready.sessionId}`);
    const resumed = await again.next("ready");
    expect(resumed).toMatchObject({ sessionId: ready.sessionId, secret: ready.secret, webhookId: ready.webhookId });
    const handedBack = await eventually(async () => {
      const sent = queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId)
        .filter((id) => ids.includes(id));
      return sent.length >= 3 ? sent : undefined;
    });
    expect(handedBack).toEqual(ids);
    // All three in one batch, run concurrently: they still go down the socket in order.
    const run = runDeliveryConsumer([...ids].reverse());
    await eventually(async () => (again.messages.filter((m) => m.type === "delivery").length === 3 ? true : undefined), 200, 20);
    const deliveries = again.messages.filter((m) => m.type === "delivery");
    expect(deliveries.map((d) => d.deliveryId)).toEqual(ids);
    expect(deliveries.map((d) => JSON.parse(d.body).data.n)).toEqual([1, 2, 3]);
    for (const d of deliveries) again.send(answer(d));
    await run;
    for (const id of ids) expect((await getDelivery(key, id)).status).toBe("succeeded");
    again.ws.close(1000);
  });

  it("a second connection replaces the first, which is told so and closed", async () => {
    const { key, conn, ready } = await session();
    const second = await connect(key, `?session=${ready.sessionId}`);
    expect((await second.next("ready")).sessionId).toBe(ready.sessionId);
    const replaced = await conn.next("replaced");
    expect(replaced.message).toMatch(/took it over/);
    expect((await conn.closed).code).toBe(4000);
    // Deliveries now go to the second.
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const run = runDeliveryConsumer([deliveryIds[0]!]);
    second.send(answer(await second.next("delivery")));
    await run;
    expect((await getDelivery(key, deliveryIds[0]!)).status).toBe("succeeded");
    expect(conn.messages.some((m) => m.type === "delivery")).toBe(false);
    second.ws.close(1000);
  });

  it("deleting the session's subscription tells the connected CLI (an error, 410) and closes the socket", async () => {
    const { key, conn, ready } = await session();
    expect((await call("DELETE", `/v1/webhooks/${ready.webhookId}`, { key })).status).toBe(204);
    const ended = await conn.next("error");
    expect(ended).toMatchObject({ type: "error", status: 410 });
    expect(ended.message).toMatch(/deleted/);
    expect((await conn.closed).code).toBe(1008);
    expect((await call("GET", `/v1/webhooks/${ready.webhookId}`, { key })).status).toBe(404);
  });

  it("10 minutes without a connection: the alarm deletes the subscription and cancels its pending deliveries", async () => {
    const { key, conn, ready } = await session();
    conn.ws.close(1000);
    const object = sessionObject(ready.sessionId) as DurableObjectStub;
    await disconnected(ready.sessionId);
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    await runDeliveryConsumer([deliveryIds[0]!]);
    // Not yet: the alarm re-arms itself for the rest of the 10 minutes.
    expect(await runDurableObjectAlarm(object)).toBe(true);
    expect((await call("GET", `/v1/webhooks/${ready.webhookId}`, { key })).status).toBe(200);
    const alarmAt = await runInDurableObject(object, (_o, state) => state.storage.getAlarm());
    expect(alarmAt).toBeGreaterThan(Date.now() + SESSION_KEPT_MS - 60_000);
    // Ten minutes on.
    const meta = await sessionState(ready.sessionId);
    await runInDurableObject(object, (_o, state) => {
      state.storage.sql.exec(
        "UPDATE meta SET v = ? WHERE k = 'session'",
        JSON.stringify({ ...meta, disconnectedAt: Date.now() - SESSION_KEPT_MS - 1 }),
      );
    });
    expect(await runDurableObjectAlarm(object)).toBe(true);
    expectProblem(await call("GET", `/v1/webhooks/${ready.webhookId}`, { key }), 404, "not_found");
    expect((await getDelivery(key, deliveryIds[0]!)).status).toBe("cancelled");
    // Resuming it now opens a new session, with a new secret.
    const later = await connect(key, `?session=${ready.sessionId}`);
    const fresh = await later.next("ready");
    expect(fresh.sessionId).not.toBe(ready.sessionId);
    expect(fresh.secret).not.toBe(ready.secret);
    later.ws.close(1000);
  });

  it("with inline first attempts on, a publish while offline makes no attempt either", async () => {
    const { key, conn, ready } = await session();
    conn.ws.close(1000);
    await disconnected(ready.sessionId);
    const published: any = await callWithEnv({ FIRST_ATTEMPT: "inline" }, "POST", "/v1/events", {
      key,
      body: { type: "invoice.paid", data: {} },
    });
    expect(published.status).toBe(202);
    const id = published.body.deliveries[0].id as string;
    const delivery = await getDelivery(key, id);
    expect(delivery).toMatchObject({ status: "pending", attempts: [] });
  });
});

describe("GET /v1/listen: a test send", () => {
  it("POST /v1/webhooks/:id/test goes down the socket and answers with the CLI's result", async () => {
    const { key, conn, ready } = await session();
    const sent = call("POST", `/v1/webhooks/${ready.webhookId}/test`, { key, body: {} });
    const d = await conn.next("delivery");
    expect(d.eventType).toBe("invoice.paid");
    conn.send(answer(d, 202, "thanks"));
    const res = await sent;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, statusCode: 202, responseBody: "thanks" });
    conn.ws.close(1000);
  });
});

describe("GET /v1/listen: the key in the first message", () => {
  it("an upgrade without a credential takes {type: auth, key} first, then works as with the header", async () => {
    const { key } = await listenTenant();
    await stubDeliveryQueue();
    const conn = await connect(key, "?events=invoice.paid", { firstMessage: true });
    const ready = await conn.next("ready");
    expect(ready.sessionId).toMatch(/^lsn_/);
    const { deliveryIds } = await publishEvent(key, "invoice.paid");
    const run = runDeliveryConsumer([deliveryIds[0]!]);
    conn.send(answer(await conn.next("delivery"), 204, ""));
    await run;
    expect((await getDelivery(key, deliveryIds[0]!)).attempts[0]).toMatchObject({ statusCode: 204, error: null });
    conn.ws.close(1000);
    await disconnected(ready.sessionId);
  });

  it("a bad key, a read-only key, or a first message that is not auth: an error message with the status, then a close", async () => {
    const { key } = await listenTenant();
    const reader = await newKey(key, { scopes: ["webhooks:read"] });
    for (const [presented, status] of [
      ["hg_nope", 401],
      [reader.key, 403],
    ] as const) {
      const conn = await connect(presented, "", { firstMessage: true });
      const error = await conn.next("error");
      expect(error.status).toBe(status);
      expect((await conn.closed).code).toBe(1008);
    }
    const res = await exports.default.fetch(new Request(`${BASE}/v1/listen`, { headers: { upgrade: "websocket" } }));
    const ws = res.webSocket!;
    ws.accept();
    const got = new Promise<any>((resolve) => ws.addEventListener("message", (e) => resolve(JSON.parse(e.data as string))));
    ws.send(JSON.stringify({ type: "result", deliveryId: "x" }));
    expect(await got).toMatchObject({ type: "error", status: 401 });
    const list = await call("GET", "/v1/webhooks", { key });
    expect(list.body.data.filter((w: any) => w.managedBy === "cli")).toEqual([]);
  });
});
