import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/client";
import { replayLaneFor } from "../../src/objects";
import { REPLAY_CONCURRENCY } from "../../src/replays/pump";
import { getReplay, insertReplay, type ReplayRow, saveReplay } from "../../src/replays/store";
import {
  BASE,
  call,
  deliverySetup,
  expectProblem,
  getDelivery,
  newTenant,
  publishEvent,
  runDeliveryConsumer,
  sleep,
  stubDeliveryQueue,
  stubEndpoint,
} from "./helpers";

/**
 * A cancel is two steps: the lane stops the replay, then the request records
 * it. The lane keeps writing the replay's row meanwhile (its in-flight
 * attempts finish and are counted). These tests put the lane's writes
 * between the two steps, deterministically: the request's lane stub waits,
 * before or after the lane's cancel, until the lane has written its final
 * row and let the replay go.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

/** A tenant whose endpoint has `n` failed deliveries and now hangs each attempt until `release()`. */
async function withHeldEndpoint(n: number) {
  await stubDeliveryQueue();
  const s = await deliverySetup({ types: ["invoice.paid"] });
  const endpoint = await stubEndpoint(() => new Response("down", { status: 500 }));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await publishEvent(s.key, "invoice.paid", { i })).deliveryIds[0]!);
  await runDeliveryConsumer(ids.map((deliveryId) => ({ deliveryId, manual: true })));
  for (const id of ids) expect((await getDelivery(s.key, id)).status).toBe("failed");
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  await endpoint.answerWith(async () => {
    await gate;
    return new Response("ok");
  });
  return { ...s, endpoint, ids, release };
}

/** Polls `check` until it holds (the test's timeout bounds the wait). */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error(`${what}: still not so`);
}

/** Whether the endpoint's lane still holds replay `id` (it lets go only once D1 has its final row). */
async function laneHolds(webhookId: string, id: string): Promise<boolean> {
  return runInDurableObject(replayLaneFor(env, webhookId), (_o, state) => state.storage.kv.get<{ id: string }>("current")?.id === id);
}

/** Starts a replay of the endpoint's failed deliveries and waits until the lane's first attempts are out (and held). */
async function startHeld(s: Awaited<ReturnType<typeof withHeldEndpoint>>): Promise<string> {
  const before = s.endpoint.calls.length;
  const res = await call("POST", "/v1/replays", { key: s.key, body: { webhookId: s.webhookId, since: new Date(Date.now() - 3_600_000) } });
  expect(res.status, res.text).toBe(202);
  await until(() => s.endpoint.calls.length - before >= REPLAY_CONCURRENCY, "the lane's first attempts sent");
  return res.body.id;
}

/**
 * POST /v1/replays/:id/cancel through the Worker, its lane stub running
 * `hook` just before (`at: "before"`) or just after (`at: "after"`) the
 * lane's cancel. Only the request's stub is wrapped: the lane runs as ever.
 */
async function cancelAround(key: string, id: string, at: "before" | "after", hook: () => Promise<void>) {
  const worker = (await import("../../src/index")).default;
  const lanes = env.REPLAY_LANE;
  const wrapped = {
    idFromName: (name: string) => lanes.idFromName(name),
    get: (oid: DurableObjectId) => {
      const real = lanes.get(oid);
      return {
        runningId: () => real.runningId(),
        progress: (replayId: string) => real.progress(replayId),
        cancel: async (replayId: string) => {
          if (at === "before") await hook();
          const answer = await real.cancel(replayId);
          if (at === "after") await hook();
          return answer;
        },
      };
    },
  };
  const patched = { ...env, REPLAY_LANE: wrapped } as unknown as typeof env;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${BASE}/v1/replays/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${key}` } }),
    patched,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

async function cancelAudits(key: string, id: string) {
  const audit = await call("GET", "/v1/audit-log?action=replay.cancelled", { key });
  expect(audit.status, audit.text).toBe(200);
  return audit.body.data.filter((e: { target: string }) => e.target === id);
}

describe("POST /v1/replays/:id/cancel racing the lane", () => {
  it("the lane's final counts stand when its last in-flight attempt finishes before the cancel is recorded", async () => {
    const s = await withHeldEndpoint(3);
    const id = await startHeld(s);
    // The lane cancels with one attempt in flight; that attempt then succeeds and the lane writes its final row and lets go.
    const cancelled = await cancelAround(s.key, id, "after", async () => {
      s.release();
      await until(async () => !(await laneHolds(s.webhookId, id)), "the lane let the replay go");
    });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id, state: "cancelled", matched: 3, sent: REPLAY_CONCURRENCY });
    const end = await call("GET", `/v1/replays/${id}`, { key: s.key });
    expect(end.status, end.text).toBe(200);
    expect(end.body).toMatchObject({ state: "cancelled", matched: 3, sent: REPLAY_CONCURRENCY, succeeded: REPLAY_CONCURRENCY, failed: 0 });
    expect(end.body.finishedAt).not.toBeNull();
    const list = await call("GET", `/v1/replays?webhookId=${s.webhookId}`, { key: s.key });
    expect(list.body.data).toEqual([end.body]);
    expect(await cancelAudits(s.key, id)).toHaveLength(1);
    expectProblem(await call("POST", `/v1/replays/${id}/cancel`, { key: s.key }), 409, "conflict");
  });

  it("a cancel that reaches the lane after the replay finished is a 409 and leaves it done", async () => {
    const s = await withHeldEndpoint(1);
    const id = await startHeld(s);
    // The request saw it running; its last attempt then succeeds and the lane ends it done before the cancel arrives.
    const refused = await cancelAround(s.key, id, "before", async () => {
      s.release();
      await until(async () => !(await laneHolds(s.webhookId, id)), "the lane let the replay go");
    });
    expectProblem(refused, 409, "conflict");
    expect(refused.body.state).toBe("done");
    const end = await call("GET", `/v1/replays/${id}`, { key: s.key });
    expect(end.body).toMatchObject({ state: "done", matched: 1, sent: 1, succeeded: 1, failed: 0 });
    expect(end.body.finishedAt).not.toBeNull();
    expect(await cancelAudits(s.key, id)).toEqual([]);
  });

  it("a running replay its lane does not hold is cancelled by its row alone, once", async () => {
    const s = await withHeldEndpoint(1);
    const id = `rpl_unheld${Date.now()}`;
    const now = Date.now();
    await insertReplay(createDb(env.DB), {
      id,
      tenantId: s.tenantId,
      mode: "live" as const,
      webhookId: s.webhookId,
      state: "running",
      statuses: ["failed"],
      eventTypes: null,
      since: new Date(now - 3_600_000),
      until: null,
      matched: 1,
      sent: 0,
      succeeded: 0,
      failed: 0,
      createdBy: "test",
      createdAt: new Date(now),
      finishedAt: null,
    }).run();
    const cancelled = await call("POST", `/v1/replays/${id}/cancel`, { key: s.key });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id, state: "cancelled", matched: 1, sent: 0 });
    expect(cancelled.body.finishedAt).not.toBeNull();
    expect((await call("GET", `/v1/replays/${id}`, { key: s.key })).body).toEqual(cancelled.body);
    expectProblem(await call("POST", `/v1/replays/${id}/cancel`, { key: s.key }), 409, "conflict");
    expect(await cancelAudits(s.key, id)).toHaveLength(1);
    expect(s.endpoint.calls.length).toBe(1);
  });
});

describe("a replay's row only moves forward, whatever order its writers land in", () => {
  it("a finished row keeps its state, and an older snapshot of it never replaces a newer one", async () => {
    const { tenant } = await newTenant();
    const db = createDb(env.DB);
    const now = Date.now();
    const base: ReplayRow = {
      id: `rpl_order${now}${Math.random().toString(36).slice(2, 8)}`,
      tenantId: tenant.id,
      mode: "live" as const,
      webhookId: "wh_none",
      state: "running",
      statuses: ["failed"],
      eventTypes: null,
      since: new Date(now - 3_600_000),
      until: null,
      matched: 4,
      sent: 0,
      succeeded: 0,
      failed: 0,
      createdBy: "test",
      createdAt: new Date(now),
      finishedAt: null,
    };
    const save = (row: Partial<ReplayRow>) => saveReplay(db, { ...base, ...row }).run();
    const read = async () => (await getReplay(db, tenant.id, "live", base.id))!;
    await insertReplay(db, base).run();
    // While running, each save is taken as it comes (the lane's live counts are what reads show).
    await save({ sent: 2, succeeded: 1 });
    await save({ sent: 1, succeeded: 1 });
    expect(await read()).toMatchObject({ state: "running", sent: 1, succeeded: 1 });
    const over = new Date(now + 1_000);
    const end = (counts: Pick<ReplayRow, "sent" | "succeeded" | "failed">, state: ReplayRow["state"] = "cancelled") =>
      save({ state, finishedAt: over, ...counts });
    // Cancelled with three in flight: one succeeds, one fails, the last turns out not sent.
    await end({ sent: 3, succeeded: 0, failed: 0 });
    await end({ sent: 3, succeeded: 1, failed: 0 });
    await end({ sent: 3, succeeded: 1, failed: 1 });
    await end({ sent: 2, succeeded: 1, failed: 1 });
    const final = await read();
    expect(final).toMatchObject({ state: "cancelled", sent: 2, succeeded: 1, failed: 1, finishedAt: over });
    // Late writes that would move it back change nothing: each differs from the final row in one way.
    await end({ sent: 2, succeeded: 0, failed: 1 });
    await end({ sent: 2, succeeded: 1, failed: 0 });
    await end({ sent: 3, succeeded: 1, failed: 1 });
    await end({ sent: 2, succeeded: 1, failed: 1 }, "done");
    await save({ sent: 2, succeeded: 1, failed: 1 });
    expect(await read()).toEqual(final);
  });
});
