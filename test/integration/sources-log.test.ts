import { runInDurableObject } from "cloudflare:test";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runShardAlarm, shardOf } from "./data-plane";
import { call, expectProblem, stubDeliveryQueue } from "./helpers";
import {
  countEvents,
  countLoggedRequests,
  createType,
  expectAccepted,
  getEvent,
  ISO,
  lastRequest,
  newSource,
  nowSeconds,
  REQ,
  requestLog,
  send,
  sourceTenant,
  subscribe,
} from "./sources-kit";

// The request log of a source (GET /v1/sources/:id/requests), replay, and retention.

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const KiB = 1024;
const stripe = new Stripe("sk_test_x");
const STRIPE_SECRET = "whsec_log_secret";
const stripeHeader = async (payload: string, timestamp = nowSeconds(), secret = STRIPE_SECRET) => ({
  "stripe-signature": await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp }),
});

describe("GET /v1/sources/:id/requests", () => {
  it("each entry: what arrived and what was answered", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const body = '{"order":"o_1","total":5}';
    const before = Date.now();
    const eventId = expectAccepted(
      await send(src.path, body, {
        query: "?shop=acme&n=2",
        headers: { "cf-connecting-ip": "203.0.113.9", "x-shop-topic": "orders/create" },
      }),
    );
    const [entry] = await requestLog(key, src.id);
    expect(Object.keys(entry).sort()).toEqual(
      [
        "body",
        "bodyTruncated",
        "eventId",
        "headers",
        "id",
        "ip",
        "method",
        "query",
        "receivedAt",
        "rejection",
        "responseStatus",
        "status",
      ].sort(),
    );
    expect(entry).toMatchObject({
      status: "accepted",
      rejection: null,
      eventId,
      ip: "203.0.113.9",
      method: "POST",
      query: { shop: "acme", n: "2" },
      body,
      bodyTruncated: false,
      responseStatus: 202,
    });
    expect(entry.id).toMatch(REQ);
    expect(entry.receivedAt).toMatch(ISO);
    expect(Date.parse(entry.receivedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(entry.headers).toMatchObject({ "content-type": "application/json", "x-shop-topic": "orders/create" });
    // The URL's token is never in the log.
    expect(JSON.stringify(entry)).not.toContain(src.token);

    const one = await call("GET", `/v1/sources/${src.id}/requests/${entry.id}`, { key });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual(entry);
  });

  it("newest first, filtered by status, paged by cursor", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", dedupe: { header: "x-id" } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      if (i === 2) await send(src.path, "nope", { contentType: "text/plain" });
      else await send(src.path, `{"i":${i}}`, { headers: { "x-id": i === 4 ? "d0" : `d${i}` } });
      ids.unshift((await lastRequest(key, src.id)).id);
    }
    const all = await requestLog(key, src.id);
    expect(all.map((r) => r.id)).toEqual(ids);
    expect(all.map((r) => r.status)).toEqual(["duplicate", "accepted", "rejected", "accepted", "accepted"]);
    for (let i = 1; i < all.length; i++) expect(Date.parse(all[i - 1].receivedAt)).toBeGreaterThanOrEqual(Date.parse(all[i].receivedAt));

    expect((await requestLog(key, src.id, "?status=accepted")).map((r) => r.id)).toEqual([ids[1], ids[3], ids[4]]);
    expect((await requestLog(key, src.id, "?status=rejected")).map((r) => r.id)).toEqual([ids[2]]);
    expect((await requestLog(key, src.id, "?status=duplicate")).map((r) => r.id)).toEqual([ids[0]]);
    expectProblem(await call("GET", `/v1/sources/${src.id}/requests?status=lost`, { key }), 400, "invalid_query");

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await call("GET", `/v1/sources/${src.id}/requests?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
        key,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((r: any) => r.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
  });

  it("redacts signatures, credentials and the source's own secret header; keeps the rest", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, {
      eventType: "order.created",
      verification: { scheme: "api-key", header: "X-Partner-Pass", secret: "pp-123" },
    });
    const secrets = {
      "x-partner-pass": "pp-123",
      "stripe-signature": "t=1,v1=abc",
      "x-hub-signature-256": "sha256=abc",
      "webhook-signature": "v1,abc",
      "svix-signature": "v1,abc",
      "x-shopify-hmac-sha256": "abc=",
      "x-slack-signature": "v0=abc",
      "x-twilio-signature": "abc=",
      authorization: "Bearer sk_live_abc",
      cookie: "session=abc",
      "x-api-key": "abc",
    };
    expectAccepted(await send(src.path, "{}", { headers: { ...secrets, "x-github-event": "push", "user-agent": "GitHub-Hookshot/1" } }));
    const entry = await lastRequest(key, src.id);
    for (const name of Object.keys(secrets)) expect(entry.headers[name], name).toBe("[redacted]");
    expect(entry.headers).toMatchObject({ "x-github-event": "push", "user-agent": "GitHub-Hookshot/1" });
    expect(JSON.stringify(entry)).not.toContain("pp-123");

    const mac = await newSource(key, { eventType: "order.created", verification: { scheme: "hmac", secret: "k", header: "x-mac" } });
    expectProblem(await send(mac.path, "{}", { headers: { "x-mac": "deadbeef" } }), 401, "invalid_signature");
    expect((await lastRequest(key, mac.id)).headers["x-mac"]).toBe("[redacted]");
  });

  it("redacts a secret in the query: Meta's verify token in a refused handshake", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, {
      eventType: "order.created",
      verification: { scheme: "meta", secret: "app-secret", verifyToken: "vt-real-123" },
    });
    const res = await send(src.path, null, {
      method: "GET",
      contentType: null,
      query: "?hub.mode=unsubscribe&hub.verify_token=vt-real-123&hub.challenge=7",
    });
    expectProblem(res, 401, "invalid_signature");
    const entry = await lastRequest(key, src.id);
    expect(entry.query).toEqual({ "hub.mode": "unsubscribe", "hub.verify_token": "[redacted]", "hub.challenge": "7" });
    expect(JSON.stringify(entry)).not.toContain("vt-real-123");
  });

  it("keeps at most 64 KiB of a body (bodyTruncated), never half a character", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const exact = JSON.stringify({ p: "x".repeat(64 * KiB - 8) });
    expect(new TextEncoder().encode(exact).length).toBe(64 * KiB);
    expectAccepted(await send(src.path, exact));
    expect(await lastRequest(key, src.id)).toMatchObject({ body: exact, bodyTruncated: false });

    // "é" is two bytes: the 64 KiB cut falls inside one.
    const big = JSON.stringify({ p: `x${"é".repeat(60 * KiB)}` });
    const eventId = expectAccepted(await send(src.path, big));
    const entry = await lastRequest(key, src.id);
    expect(entry.bodyTruncated).toBe(true);
    expect(big.startsWith(entry.body)).toBe(true);
    expect(new TextEncoder().encode(entry.body).length).toBe(64 * KiB - 1);
    expect(entry.body).not.toContain("\uFFFD");
    // The event has the whole body.
    expect((await getEvent(key, eventId)).data).toEqual(JSON.parse(big));
  });

  it("every failure is logged with its reason", async () => {
    const schema = { type: "object", required: ["n"], properties: { n: { type: "integer" } } };
    const { key } = await sourceTenant([{ name: "typed.event", schema }]);
    const src = await newSource(key, {
      eventType: "{{trigger.type}}",
      verification: { scheme: "stripe", secret: STRIPE_SECRET },
      rateLimit: 8,
    });
    const signed = async (body: string, at?: number) => send(src.path, body, { headers: await stripeHeader(body, at) });
    const good = '{"type":"typed.event","n":1}';
    const answers = [
      await send(src.path, good, { headers: await stripeHeader(good, undefined, "whsec_other") }),
      await signed(good, nowSeconds() - 3600),
      await signed('{"type":'),
      await signed(JSON.stringify({ pad: "x".repeat(257 * KiB) })),
      await send(src.path, good, { contentType: "text/plain", headers: await stripeHeader(good) }),
      await signed('{"type":"no.such"}'),
      await signed('{"type":"typed.event","n":"one"}'),
      await signed(good),
      await signed(good),
    ];
    expect(answers.map((r) => r.status)).toEqual([401, 401, 400, 413, 415, 422, 422, 202, 429]);
    const log = await requestLog(key, src.id, "?limit=100");
    expect(log.map((r) => [r.status, r.rejection, r.responseStatus])).toEqual(
      [
        ["rejected", "invalid_signature", 401],
        ["rejected", "stale_timestamp", 401],
        ["rejected", "bad_body", 400],
        ["rejected", "too_large", 413],
        ["rejected", "unsupported_media_type", 415],
        ["rejected", "unknown_event_type", 422],
        ["rejected", "schema_mismatch", 422],
        ["accepted", null, 202],
        ["rejected", "rate_limited", 429],
      ].reverse(),
    );
  });

  it("unknown request id, or one of another source: 404", async () => {
    const { key } = await sourceTenant();
    const a = await newSource(key, { eventType: "order.created" });
    const b = await newSource(key, { eventType: "order.created" });
    expectAccepted(await send(a.path, "{}"));
    const entry = await lastRequest(key, a.id);
    expectProblem(await call("GET", `/v1/sources/${a.id}/requests/req_nope`, { key }), 404, "not_found");
    expectProblem(await call("GET", `/v1/sources/${b.id}/requests/${entry.id}`, { key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/sources/${b.id}/requests/${entry.id}/replay`, { key }), 404, "not_found");
  });
});

describe("POST /v1/sources/:id/requests/:reqId/replay", () => {
  it("a request rejected for unknown_event_type is published once the type exists; its entry becomes accepted", async () => {
    const { key } = await sourceTenant([]);
    const queue = await stubDeliveryQueue();
    const src = await newSource(key, { eventType: "github.{{headers.x-github-event}}", verification: { scheme: "github", secret: "s" } });
    const { sign } = await import("@octokit/webhooks-methods");
    const body = '{"ref":"refs/heads/main"}';
    const headers = { "x-github-event": "push", "x-hub-signature-256": await sign("s", body) };
    expectProblem(await send(src.path, body, { headers }), 422, "unknown_event_type");
    const entry = await lastRequest(key, src.id);
    expect(entry).toMatchObject({ status: "rejected", rejection: "unknown_event_type" });
    // Still unknown: the replay fails the same way and the entry stays rejected.
    expectProblem(await call("POST", `/v1/sources/${src.id}/requests/${entry.id}/replay`, { key }), 422, "unknown_event_type");

    await createType(key, "github.push");
    const webhookId = await subscribe(key, ["github.push"]);
    const res = await call("POST", `/v1/sources/${src.id}/requests/${entry.id}/replay`, { key });
    expect(res.status, res.text).toBe(202);
    expect(Object.keys(res.body)).toEqual(["eventId"]);
    const event = await getEvent(key, res.body.eventId);
    expect(event).toMatchObject({ type: "github.push", data: { ref: "refs/heads/main" } });
    expect(event.deliveries.map((d: any) => d.webhookId)).toEqual([webhookId]);
    expect(queue.sent().map((m) => m.deliveryId)).toEqual([event.deliveries[0].id]);
    const after = (await call("GET", `/v1/sources/${src.id}/requests/${entry.id}`, { key })).body;
    expect(after).toMatchObject({ id: entry.id, status: "accepted", rejection: null, eventId: res.body.eventId, responseStatus: 202 });
    const audit = await call("GET", "/v1/audit-log?action=source.request_replayed", { key });
    expect(audit.body.data.map((e: any) => e.target)).toEqual([entry.id]);
  });

  it("after a mapping fix: a schema_mismatch request is replayed with the new mapping", async () => {
    const schema = { type: "object", required: ["total"], properties: { total: { type: "number" } } };
    const { key } = await sourceTenant([{ name: "order.paid", schema }]);
    const src = await newSource(key, { eventType: "order.paid", mapping: { total: "{{trigger.amount}}" } });
    expectProblem(await send(src.path, '{"amount_total":12}'), 422, "schema_mismatch");
    const entry = await lastRequest(key, src.id);
    expect((await call("PATCH", `/v1/sources/${src.id}`, { key, body: { mapping: { total: "{{trigger.amount_total}}" } } })).status).toBe(
      200,
    );
    const res = await call("POST", `/v1/sources/${src.id}/requests/${entry.id}/replay`, { key });
    expect(res.status, res.text).toBe(202);
    expect((await getEvent(key, res.body.eventId)).data).toEqual({ total: 12 });
  });

  it("a request that failed verification (or never reached it) cannot be replayed: 409 not_verified", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", verification: { scheme: "stripe", secret: STRIPE_SECRET } });
    const body = '{"id":"evt_x"}';
    expectProblem(await send(src.path, body, { headers: await stripeHeader(body, undefined, "whsec_wrong") }), 401, "invalid_signature");
    const forged = await lastRequest(key, src.id);
    expectProblem(await call("POST", `/v1/sources/${src.id}/requests/${forged.id}/replay`, { key }), 409, "not_verified");
    expectProblem(await send(src.path, body, { headers: await stripeHeader(body, nowSeconds() - 3600) }), 401, "stale_timestamp");
    const stale = await lastRequest(key, src.id);
    expectProblem(await call("POST", `/v1/sources/${src.id}/requests/${stale.id}/replay`, { key }), 409, "not_verified");
    expect(await countEvents(tenantId)).toBe(0);
    expect((await lastRequest(key, src.id)).status).toBe("rejected");
  });

  it("an accepted request with a delivery id replays to the same event; without one, to a new event", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", dedupe: { path: "id" } });
    const eventId = expectAccepted(await send(src.path, '{"id":"d-1"}'));
    const entry = await lastRequest(key, src.id);
    const res = await call("POST", `/v1/sources/${src.id}/requests/${entry.id}/replay`, { key });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ eventId });
    expect(await countEvents(tenantId)).toBe(1);
    // The entry that published the event stays accepted; a logged repeat stays a duplicate.
    expect((await call("GET", `/v1/sources/${src.id}/requests/${entry.id}`, { key })).body).toMatchObject({ status: "accepted", eventId });
    expect(expectAccepted(await send(src.path, '{"id":"d-1"}'))).toBe(eventId);
    const repeat = await lastRequest(key, src.id);
    expect(repeat.status).toBe("duplicate");
    expect((await call("POST", `/v1/sources/${src.id}/requests/${repeat.id}/replay`, { key })).body).toEqual({ eventId });
    expect((await call("GET", `/v1/sources/${src.id}/requests/${repeat.id}`, { key })).body.status).toBe("duplicate");
    expect(await countEvents(tenantId)).toBe(1);

    const plain = await newSource(key, { eventType: "order.created" });
    const first = expectAccepted(await send(plain.path, '{"n":1}'));
    const again = await call("POST", `/v1/sources/${plain.id}/requests/${(await lastRequest(key, plain.id)).id}/replay`, { key });
    expect(again.status, again.text).toBe(202);
    expect(again.body.eventId).not.toBe(first);
    expect((await getEvent(key, again.body.eventId)).data).toEqual({ n: 1 });
  });

  it("another tenant's request id: 404", async () => {
    const a = await sourceTenant();
    const srcA = await newSource(a.key, { eventType: "order.created" });
    expectAccepted(await send(srcA.path, "{}"));
    const entry = await lastRequest(a.key, srcA.id);
    const b = await sourceTenant();
    const srcB = await newSource(b.key, { eventType: "order.created" });
    expectProblem(await call("POST", `/v1/sources/${srcB.id}/requests/${entry.id}/replay`, { key: b.key }), 404, "not_found");
    expectProblem(await call("GET", `/v1/sources/${srcB.id}/requests/${entry.id}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/sources/${srcA.id}/requests/${entry.id}/replay`, { key: b.key }), 404, "not_found");
  });
});

describe("retention", () => {
  it("log entries go with their day's data shard when it passes EVENT_RETENTION_DAYS", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectAccepted(await send(src.path, "{}"));
    expectProblem(await send(src.path, "x", { contentType: "text/plain" }), 415, "unsupported_media_type");
    const entries = await requestLog(key, src.id);
    expect(entries).toHaveLength(2);
    expect(await countLoggedRequests(src.id)).toBe(2);
    // Before the horizon the alarm keeps everything; past it, the object is dropped whole.
    await runShardAlarm(tenantId, entries[0].id);
    expect(await requestLog(key, src.id)).toHaveLength(2);
    await runInDurableObject(shardOf(tenantId, entries[0].id), (_o, state) => {
      const meta = state.storage.kv.get<{ retentionAt: number }>("meta")!;
      state.storage.kv.put("meta", { ...meta, retentionAt: Date.now() - 1 });
    });
    await runShardAlarm(tenantId, entries[0].id);
    expect(await requestLog(key, src.id)).toEqual([]);
    expect(await countLoggedRequests(src.id)).toBe(0);
    // The source itself stays, and logs new requests (in a fresh object of today).
    expectAccepted(await send(src.path, "{}"));
    expect((await requestLog(key, src.id)).length).toBe(1);
  });
});
