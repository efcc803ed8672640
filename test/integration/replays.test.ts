import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bucketOf, bucketStart } from "../../src/data/shard-map";
import { governorFor, replayLaneFor } from "../../src/objects";
import { REPLAY_CONCURRENCY } from "../../src/replays/pump";
import { dataSnapshot, updateDelivery } from "./data-plane";
import {
  call,
  deliverySetup,
  expectProblem,
  fieldError,
  getDelivery,
  newKey,
  publishEvent,
  runDeliveryConsumer,
  sleep,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

const PAID = "invoice.paid";
const SENT = "invoice.sent";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A tenant with one endpoint and `n` deliveries that failed (one manual attempt each, answered 500). */
async function withFailed(n: number, opts: { webhook?: Record<string, unknown>; type?: string } = {}) {
  const queue = await stubDeliveryQueue();
  const s = await deliverySetup({ types: [PAID, SENT], ...(opts.webhook && { webhook: opts.webhook }) });
  const endpoint = await stubEndpoint(() => new Response("down", { status: 500 }));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await publishEvent(s.key, opts.type ?? PAID, { i })).deliveryIds[0]!);
  await runDeliveryConsumer(ids.map((deliveryId) => ({ deliveryId, manual: true })));
  for (const id of ids) expect((await getDelivery(s.key, id)).status).toBe("failed");
  return { ...s, queue, endpoint, ids };
}

const since = (msAgo = 3_600_000) => new Date(Date.now() - msAgo).toISOString();

async function startReplay(key: string, body: Record<string, unknown>) {
  return call("POST", "/v1/replays", { key, body });
}

/** Whether the endpoint's lane still holds replay `id` (it lets go only once D1 has its final record). */
async function laneHolds(webhookId: string, id: string): Promise<boolean> {
  const lane = replayLaneFor(env, webhookId);
  return runInDurableObject(lane, (_o, state) => state.storage.kv.get<{ id: string }>("current")?.id === id);
}

/** Polls `check` until it holds (the test's timeout bounds the wait). */
async function until(check: () => boolean | Promise<boolean>, what: string, tries = 1_000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`${what}: still not so after ${tries} checks`);
}

/**
 * Waits until the endpoint's lane lets the replay go, then returns its
 * final record. The lane runs on its own alarm only: the test never runs
 * that alarm by hand, since a manual run overlapping the runtime's is two
 * alarm handlers at once, which the runtime never does. The lane is asked
 * first and D1 after, so the record read is the final one (read the other
 * way round, the lane may finish between the two reads). `key` null: an
 * operator endpoint's.
 */
async function runToEnd(key: string | null, webhookId: string, id: string) {
  await until(async () => !(await laneHolds(webhookId, id)), `replay ${id} finished`);
  const r = key === null ? await call("GET", `/admin/replays/${id}`, { admin: true }) : await call("GET", `/v1/replays/${id}`, { key });
  expect(r.status, r.text).toBe(200);
  expect(r.body.state).not.toBe("running");
  return r.body;
}

describe("POST /v1/replays", () => {
  it("a dry run counts the failed deliveries in range and sends nothing", async () => {
    const s = await withFailed(3);
    const calls = s.endpoint.calls.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since(), dryRun: true });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ matched: 3 });
    expect(s.endpoint.calls.length).toBe(calls);
    for (const id of s.ids) expect((await getDelivery(s.key, id)).status).toBe("failed");
    const list = await call("GET", `/v1/replays?webhookId=${s.webhookId}`, { key: s.key });
    expect(list.body.data).toEqual([]);
  });

  it("replays every failed delivery once, oldest first, ends done with real counts, and never goes through the delivery queue", async () => {
    // maxConcurrency 2: the replay's share is one at a time, so the order is exact.
    const s = await withFailed(5, { webhook: { maxConcurrency: 2 } });
    // Two now succeed, three still fail.
    let n = 0;
    await s.endpoint.answerWith(() => new Response(++n <= 2 ? "ok" : "still down", { status: n <= 2 ? 200 : 500 }));
    const before = s.endpoint.calls.length;
    const queued = s.queue.messages.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({
      webhookId: s.webhookId,
      state: "running",
      matched: 5,
      sent: 0,
      succeeded: 0,
      failed: 0,
      finishedAt: null,
    });
    expect(res.body.id).toMatch(/^rpl_/);
    const done = await runToEnd(s.key, s.webhookId, res.body.id);
    expect(done).toMatchObject({ state: "done", matched: 5, sent: 5, succeeded: 2, failed: 3 });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    expect(s.endpoint.calls.length - before).toBe(5);
    // Oldest first, one more attempt each (attempt 2), exactly as a manual retry.
    const sentIds = s.endpoint.calls.slice(before).map((c) => JSON.parse(c.body).data.i);
    expect(sentIds).toEqual([0, 1, 2, 3, 4]);
    for (const c of s.endpoint.calls.slice(before)) expect(c.headers.get("x-webhook-attempt")).toBe("2");
    const statuses = await Promise.all(s.ids.map(async (id) => (await getDelivery(s.key, id)).status));
    expect(statuses.filter((x) => x === "succeeded").length).toBe(2);
    expect(statuses.filter((x) => x === "failed").length).toBe(3);
    for (const id of s.ids) expect((await getDelivery(s.key, id)).attemptCount).toBe(2);
    // Its own lane: not one replay message on the delivery queue.
    expect(s.queue.messages.slice(queued)).toEqual([]);
    // The D1 row is final, and listed.
    const list = await call("GET", `/v1/replays?webhookId=${s.webhookId}`, { key: s.key });
    expect(list.body.data).toEqual([done]);
    const audit = await call("GET", "/v1/audit-log?action=replay.started", { key: s.key });
    expect(audit.body.data[0]).toMatchObject({ action: "replay.started", target: done.id });
  });

  it("filters by status, event type, since and until", async () => {
    const s = await withFailed(2);
    const sentType = (await publishEvent(s.key, SENT, { t: "sent" })).deliveryIds[0]!;
    const ok = (await publishEvent(s.key, PAID, { ok: true })).deliveryIds[0]!;
    const pending = (await publishEvent(s.key, PAID, { pending: true })).deliveryIds[0]!;
    await runDeliveryConsumer([{ deliveryId: sentType, manual: true }]);
    await s.endpoint.answerWith(() => new Response("ok"));
    await runDeliveryConsumer([ok]);
    // ids[0] becomes older than the rest, still within today's bucket (a row never sits outside
    // its day's object), so the test holds at any time of day, just after midnight too.
    const now = Date.now();
    const dayStart = bucketStart(bucketOf(now));
    const older = dayStart + Math.floor((now - dayStart) / 3);
    await updateDelivery(s.ids[0]!, "created_at = ?", older);
    const after = new Date(older + 1).toISOString();
    const fromDayStart = new Date(dayStart).toISOString();
    const count = async (body: Record<string, unknown>) => {
      const r = await startReplay(s.key, { webhookId: s.webhookId, dryRun: true, ...body });
      expect(r.status, r.text).toBe(200);
      return r.body.matched;
    };
    expect(await count({ since: after })).toBe(2); // ids[1] and sentType; ids[0] is older
    expect(await count({ since: fromDayStart })).toBe(3);
    expect(await count({ since: fromDayStart, until: after })).toBe(1);
    expect(await count({ since: after, eventTypes: [SENT] })).toBe(1);
    expect(await count({ since: after, eventTypes: [PAID] })).toBe(1);
    expect(await count({ since: after, status: ["succeeded"] })).toBe(1);
    expect(await count({ since: fromDayStart, status: ["failed", "succeeded"] })).toBe(4);
    expect(await count({ since: after, status: ["cancelled"] })).toBe(0);
    // A pending delivery is never replayed: it is already on its way.
    expect((await getDelivery(s.key, pending)).status).toBe("pending");
    // The real run sends exactly the matched ones.
    const before = s.endpoint.calls.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: after, eventTypes: [SENT] });
    expect(res.status, res.text).toBe(202);
    expect(await runToEnd(s.key, s.webhookId, res.body.id)).toMatchObject({ state: "done", matched: 1, sent: 1, succeeded: 1, failed: 0 });
    expect(s.endpoint.calls.slice(before).map((c) => JSON.parse(c.body).type)).toEqual([SENT]);
  });

  it("one running replay per endpoint (409 replay_running); another endpoint is fine; a new one once it is over", async () => {
    const s = await withFailed(2);
    const other = await call("POST", "/v1/webhooks", { key: s.key, body: { url: "https://other.example.com/h", eventTypes: [PAID] } });
    expect(other.status, other.text).toBe(201);
    const first = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(first.status, first.text).toBe(202);
    const second = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expectProblem(second, 409, "replay_running");
    expect(second.body.replayId).toBe(first.body.id);
    // A dry run still answers (counting what is still failed: the lane may have one in flight already).
    const dry = await startReplay(s.key, { webhookId: s.webhookId, since: since(), dryRun: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body.matched).toBeLessThanOrEqual(2);
    const elsewhere = await startReplay(s.key, { webhookId: other.body.id, since: since() });
    expect(elsewhere.status, elsewhere.text).toBe(202);
    expect(elsewhere.body.matched).toBe(0);
    await runToEnd(s.key, s.webhookId, first.body.id);
    expect(await runToEnd(s.key, other.body.id, elsewhere.body.id)).toMatchObject({ state: "done", matched: 0, sent: 0 });
    const third = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(third.status, third.text).toBe(202);
    await runToEnd(s.key, s.webhookId, third.body.id);
    const list = await call("GET", `/v1/replays?webhookId=${s.webhookId}&limit=1`, { key: s.key });
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual([third.body.id]);
    const next = await call("GET", `/v1/replays?webhookId=${s.webhookId}&limit=1&cursor=${list.body.nextCursor}`, { key: s.key });
    expect(next.body).toMatchObject({ data: [{ id: first.body.id }], nextCursor: null });
    const all = await call("GET", "/v1/replays", { key: s.key });
    expect(all.body.data.map((r: { id: string }) => r.id).sort()).toEqual([first.body.id, elsewhere.body.id, third.body.id].sort());
  });

  it("cancel stops what has not been sent; 409 once cancelled or done", async () => {
    const s = await withFailed(6);
    // The endpoint hangs until released: the lane has a few attempts in flight, the rest wait.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await s.endpoint.answerWith(async () => {
      await gate;
      return new Response("ok");
    });
    const before = s.endpoint.calls.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(res.status, res.text).toBe(202);
    // The lane's alarm (set by the start) sends its first attempts: wait until they are out.
    await until(() => s.endpoint.calls.length - before >= REPLAY_CONCURRENCY, "the lane's first attempts sent");
    expect(s.endpoint.calls.length - before).toBe(REPLAY_CONCURRENCY);
    const cancelled = await call("POST", `/v1/replays/${res.body.id}/cancel`, { key: s.key });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ state: "cancelled", matched: 6, sent: REPLAY_CONCURRENCY });
    expect(cancelled.body.finishedAt).not.toBeNull();
    release();
    const end = await runToEnd(s.key, s.webhookId, res.body.id);
    expect(end).toMatchObject({ state: "cancelled", matched: 6, sent: REPLAY_CONCURRENCY, succeeded: REPLAY_CONCURRENCY, failed: 0 });
    expect(s.endpoint.calls.length - before).toBe(REPLAY_CONCURRENCY);
    const untouched = await Promise.all(s.ids.map(async (id) => (await getDelivery(s.key, id)).status));
    expect(untouched.filter((x) => x === "failed").length).toBe(6 - REPLAY_CONCURRENCY);
    expectProblem(await call("POST", `/v1/replays/${res.body.id}/cancel`, { key: s.key }), 409, "conflict");
    const audit = await call("GET", "/v1/audit-log?action=replay.cancelled", { key: s.key });
    expect(audit.body.data[0]).toMatchObject({ target: res.body.id });

    const again = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(again.status, again.text).toBe(202);
    expect(again.body.matched).toBe(6 - REPLAY_CONCURRENCY);
    expect(await runToEnd(s.key, s.webhookId, again.body.id)).toMatchObject({
      state: "done",
      sent: 6 - REPLAY_CONCURRENCY,
      succeeded: 6 - REPLAY_CONCURRENCY,
    });
    expectProblem(await call("POST", `/v1/replays/${again.body.id}/cancel`, { key: s.key }), 409, "conflict");
  });

  it("live deliveries are not queued behind a replay: the replay keeps to half the endpoint's concurrency", async () => {
    const s = await withFailed(6, { webhook: { maxConcurrency: 2 } });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await s.endpoint.answerWith(async (c) => {
      if (JSON.parse(c.body).data.live) return new Response("ok");
      await gate;
      return new Response("ok");
    });
    const before = s.endpoint.calls.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(res.status, res.text).toBe(202);
    await until(() => s.endpoint.calls.length - before >= 1, "the lane's first attempt sent");
    await sleep(50);
    // One of the two slots is the replay's.
    expect(s.endpoint.calls.length - before).toBe(1);
    expect(await governorFor(env, s.webhookId).inFlight()).toBe(1);
    // A live event published now goes out at once, ahead of the replay's five waiting deliveries.
    const queued = s.queue.messages.length;
    const live = await publishEvent(s.key, PAID, { live: true });
    const liveMessages = s.queue.messages.slice(queued);
    expect(liveMessages.map((m) => m.body.deliveryId)).toEqual(live.deliveryIds);
    const r = await runDeliveryConsumer(liveMessages.map((m) => m.body));
    expect(r.retryMessages).toEqual([]);
    expect((await getDelivery(s.key, live.deliveryIds[0]!)).status).toBe("succeeded");
    const progress = await call("GET", `/v1/replays/${res.body.id}`, { key: s.key });
    expect(progress.body).toMatchObject({ state: "running", sent: 1, succeeded: 0 });
    release();
    expect(await runToEnd(s.key, s.webhookId, res.body.id)).toMatchObject({ state: "done", sent: 6, succeeded: 6 });
  });

  it("a replay whose endpoint is disabled meanwhile stops, cancelled, sending nothing more", async () => {
    const s = await withFailed(6);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await s.endpoint.answerWith(async () => {
      await gate;
      return new Response("ok");
    });
    const before = s.endpoint.calls.length;
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(res.status, res.text).toBe(202);
    // At most the lane's few attempts are out (its alarm may have started) while the endpoint is turned off.
    expect((await call("PATCH", `/v1/webhooks/${s.webhookId}`, { key: s.key, body: { isEnabled: false } })).status).toBe(200);
    const inFlight = s.endpoint.calls.length - before;
    expect(inFlight).toBeLessThanOrEqual(4);
    release();
    const end = await runToEnd(s.key, s.webhookId, res.body.id);
    expect(end).toMatchObject({ state: "cancelled", matched: 6 });
    expect(end.sent).toBe(s.endpoint.calls.length - before);
    expect(end.sent).toBeLessThanOrEqual(4);
    const audit = await call("GET", "/v1/audit-log?action=replay.cancelled", { key: s.key });
    expect(audit.body.data[0]).toMatchObject({ target: res.body.id, actor: "system", details: { reason: "webhook_disabled" } });
    // Disabled: refused until enabled again, as a manual retry is.
    expectProblem(await startReplay(s.key, { webhookId: s.webhookId, since: since() }), 409, "conflict");
  });
});

describe("replays: pacing and recovery", () => {
  it("keeps to half the endpoint's rate limit", { timeout: 20_000 }, async () => {
    const s = await withFailed(3, { webhook: { rateLimit: 2 } });
    const times: number[] = [];
    await s.endpoint.answerWith(() => {
      times.push(Date.now());
      return new Response("ok");
    });
    const res = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(res.status, res.text).toBe(202);
    expect(await runToEnd(s.key, s.webhookId, res.body.id)).toMatchObject({ state: "done", sent: 3, succeeded: 3 });
    // 2 per second for the endpoint: the replay's share is 1 per second.
    expect(times.length).toBe(3);
    // (Started a second apart; each send lands a little after its start.)
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(1_700);
  });

  it("an attempt left in flight by a lane that died is counted from its delivery's row, or sent again if it never went", async () => {
    const s = await withFailed(2);
    await s.endpoint.answerWith(() => new Response("ok"));
    const now = Date.now();
    // The first was attempted (and succeeded) after the lost run took it; the second never went.
    await updateDelivery(s.ids[0]!, "status = 'succeeded', last_attempt_at = ?", now + 1);
    const id = `rpl_orphans${now}`;
    const lane = replayLaneFor(env, s.webhookId);
    // Counted before the start: the lane's alarm may send as soon as the start has set it.
    const before = s.endpoint.calls.length;
    await runInDurableObject(lane, async (instance, state) => {
      await instance.start(
        {
          id,
          tenantId: s.tenantId,
          mode: "live" as const,
          webhookId: s.webhookId,
          state: "running",
          statuses: ["failed"],
          eventTypes: null,
          since: new Date(now - 3_600_000),
          until: null,
          matched: 2,
          createdBy: "test",
          createdAt: new Date(now),
          finishedAt: null,
        },
        s.ids.map((d) => ({ id: d, eventTenantId: s.tenantId })),
      );
      state.storage.sql.exec("UPDATE items SET state = 'inflight', not_before = ? WHERE replay_id = ?", now, id);
    });
    // The row reaches D1 with the lane's first step (no request inserted it here): runToEnd finds it there.
    expect(await runToEnd(s.key, s.webhookId, id)).toMatchObject({ state: "done", matched: 2, sent: 2, succeeded: 2, failed: 0 });
    expect(s.endpoint.calls.length - before).toBe(1);
    expect(JSON.parse(s.endpoint.calls[before]!.body).data.i).toBe(1);
  });
});

describe("replays: refusals", () => {
  it("scopes: webhooks:read lists and reads, cannot start or cancel", async () => {
    const s = await withFailed(1);
    const started = await startReplay(s.key, { webhookId: s.webhookId, since: since() });
    expect(started.status).toBe(202);
    const reader = await newKey(s.key, { scopes: ["webhooks:read"] });
    const refused = await startReplay(reader.key, { webhookId: s.webhookId, since: since(), dryRun: true });
    expectProblem(refused, 403, "insufficient_scope");
    expect(refused.body.requiredScope).toBe("webhooks:write");
    expectProblem(await call("POST", `/v1/replays/${started.body.id}/cancel`, { key: reader.key }), 403, "insufficient_scope");
    expect((await call("GET", `/v1/replays/${started.body.id}`, { key: reader.key })).status).toBe(200);
    expect((await call("GET", "/v1/replays", { key: reader.key })).status).toBe(200);
    const keysOnly = await newKey(s.key, { scopes: ["keys:read"] });
    expectProblem(await call("GET", `/v1/replays/${started.body.id}`, { key: keysOnly.key }), 403, "insufficient_scope");
    expectProblem(await call("GET", "/v1/replays"), 401, "unauthorized");
    await runToEnd(s.key, s.webhookId, started.body.id);
  });

  it("another tenant's webhook or replay is a 404, as is an unknown or deleted webhook", async () => {
    const a = await withFailed(1);
    const b = await deliverySetup();
    const started = await startReplay(a.key, { webhookId: a.webhookId, since: since() });
    expect(started.status).toBe(202);
    expectProblem(await startReplay(b.key, { webhookId: a.webhookId, since: since() }), 404, "not_found");
    expectProblem(await startReplay(b.key, { webhookId: a.webhookId, since: since(), dryRun: true }), 404, "not_found");
    expectProblem(await call("GET", `/v1/replays/${started.body.id}`, { key: b.key }), 404, "not_found");
    expectProblem(await call("POST", `/v1/replays/${started.body.id}/cancel`, { key: b.key }), 404, "not_found");
    expect((await call("GET", `/v1/replays?webhookId=${a.webhookId}`, { key: b.key })).body.data).toEqual([]);
    expectProblem(await call("GET", "/v1/replays/rpl_nope", { key: a.key }), 404, "not_found");
    expectProblem(await startReplay(a.key, { webhookId: "wh_nope", since: since() }), 404, "not_found");
    await runToEnd(a.key, a.webhookId, started.body.id);
    expect((await call("DELETE", `/v1/webhooks/${b.webhookId}`, { key: b.key })).status).toBe(204);
    expectProblem(await startReplay(b.key, { webhookId: b.webhookId, since: since() }), 404, "not_found");
    // Still running for a's own: the other tenant's attempt changed nothing.
    expect((await call("GET", `/v1/replays/${started.body.id}`, { key: a.key })).body.state).toBe("done");
  });

  it("bad input is a 422 naming the field, and nothing is stored or sent", async () => {
    const s = await withFailed(1);
    const before = await dataSnapshot();
    const calls = s.endpoint.calls.length;
    const bad: [Record<string, unknown>, string][] = [
      [{ since: "yesterday" }, "since"],
      [{}, "since"],
      [{ since: since(), until: since(2 * 3_600_000) }, "until"],
      [{ since: since(), until: since() }, "until"],
      [{ since: since(), status: ["pending"] }, "status.0"],
      [{ since: since(), status: ["nope"] }, "status.0"],
      [{ since: since(), status: [] }, "status"],
      [{ since: since(), eventTypes: "invoice.paid" }, "eventTypes"],
      [{ since: since(), dryRun: "yes" }, "dryRun"],
      [{ since: since(40 * 86_400_000) }, "since"],
      [{ since: new Date(Date.now() + 3_600_000).toISOString() }, "since"],
      [{ since: since(), extra: 1 }, "extra"],
    ];
    for (const [body, path] of bad) {
      const res = await startReplay(s.key, { webhookId: s.webhookId, ...body });
      expectProblem(res, 422, "validation_failed");
      if (path) fieldError(res, path);
    }
    const unknownStatus = await startReplay(s.key, { webhookId: s.webhookId, since: since(), status: ["nope"] });
    expect(fieldError(unknownStatus, "status.0").allowed).toEqual(["failed", "succeeded", "cancelled"]);
    expectProblem(await startReplay(s.key, { since: since() }), 422, "validation_failed");
    const malformed = await call("POST", "/v1/replays", { key: s.key, rawBody: "{", headers: { "content-type": "application/json" } });
    expectProblem(malformed, 400, "malformed_json");
    expectProblem(await call("GET", "/v1/replays?limit=0", { key: s.key }), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/replays?cursor=zzz", { key: s.key }), 400, "invalid_query");
    expect(await dataSnapshot()).toEqual(before);
    expect(s.endpoint.calls.length).toBe(calls);
    expect((await call("GET", `/v1/replays?webhookId=${s.webhookId}`, { key: s.key })).body.data).toEqual([]);
  });
});

describe("replays in the OpenAPI document", () => {
  it("documents the four routes and their twins", async () => {
    const doc = (await call("GET", "/openapi.json")).body;
    for (const prefix of ["/v1/replays", "/admin/replays"]) {
      expect(Object.keys(doc.paths[prefix]).sort()).toEqual(["get", "post"]);
      expect(Object.keys(doc.paths[`${prefix}/{id}`])).toEqual(["get"]);
      expect(Object.keys(doc.paths[`${prefix}/{id}/cancel`])).toEqual(["post"]);
    }
    expect(Object.keys(doc.paths["/v1/replays"].post.responses)).toEqual(expect.arrayContaining(["200", "202", "409", "422"]));
    expect(doc.components.schemas.ReplayRequest.properties.status.items.enum).toEqual(["failed", "succeeded", "cancelled"]);
  });
});

describe("/admin/replays: the operator's endpoints", () => {
  it("replays an operator endpoint's failed deliveries across tenants", { timeout: 30_000 }, async () => {
    const queue = await stubDeliveryQueue();
    const type = `ops_${Date.now().toString(36)}.done`;
    expect((await call("POST", "/admin/event-types", { admin: true, body: { name: type } })).status).toBe(201);
    const hook = await call("POST", "/admin/webhooks", { admin: true, body: { url: "https://ops.example.com/h", eventTypes: [type] } });
    expect(hook.status, hook.text).toBe(201);
    const endpoint = await stubEndpoint(() => new Response("", { status: 500 }));
    for (let i = 0; i < 2; i++) {
      const t = await deliverySetup();
      const r = await call("POST", `/admin/tenants/${t.tenantId}/events`, { admin: true, body: { type, data: { i } } });
      expect(r.status, r.text).toBe(202);
    }
    const listed = await call("GET", `/admin/deliveries?webhookId=${hook.body.id}`, { admin: true });
    const ids = (listed.body.data as { id: string }[]).map((d) => d.id);
    expect(ids.length).toBe(2);
    await runDeliveryConsumer(ids.map((deliveryId) => ({ deliveryId, manual: true })));
    await endpoint.answerWith(() => new Response("ok"));
    const queued = queue.messages.length;
    const res = await call("POST", "/admin/replays", { admin: true, body: { webhookId: hook.body.id, since: since() } });
    expect(res.status, res.text).toBe(202);
    expect(res.body.matched).toBe(2);
    expect(await runToEnd(null, hook.body.id, res.body.id)).toMatchObject({ state: "done", sent: 2, succeeded: 2 });
    expect(queue.messages.slice(queued)).toEqual([]);
    for (const id of ids) expect((await call("GET", `/admin/deliveries/${id}`, { admin: true })).body.status).toBe("succeeded");
    // A tenant never sees it.
    const t = await deliverySetup();
    expectProblem(await call("GET", `/v1/replays/${res.body.id}`, { key: t.key }), 404, "not_found");
  });
});
