import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { call, deliverySetup, expectProblem, newOperatorEndpoint, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Records an attempt of `webhookId` at `at` directly in its governor's stats, as the delivery engine would have. */
async function attemptAt(webhookId: string, at: number, ok: boolean) {
  await governorFor(env, webhookId).record(ok, 1000, undefined, 12, at);
}

/** A test send to the webhook now, through the API (the endpoint answers 200, or 500 when not `ok`). */
async function testSend(key: string, webhookId: string, ok: boolean) {
  const endpoint = await stubEndpoint(new Response(ok ? "ok" : "nope", { status: ok ? 200 : 500 }));
  const res = await call("POST", `/v1/webhooks/${webhookId}/test`, { key, body: {} });
  expect(res.status, res.text).toBe(200);
  expect(res.body.success).toBe(ok);
  expect(endpoint.calls).toHaveLength(1);
  endpoint.spy.mockRestore();
}

type Point = { start: string; succeeded: number; failed: number };

/** The bucket of `series` whose span holds time `t`. */
const bucketOf = (series: Point[], t: number, span: number) =>
  series.findIndex((p) => Date.parse(p.start) <= t && t < Date.parse(p.start) + span);

describe("GET /v1/webhooks/:id/stats series", () => {
  it("24h (the default): 24 hourly buckets, oldest first, every one present, attempts in their hour", async () => {
    const { key, webhookId } = await deliverySetup();
    const now = Date.now();
    const times = { recent: now - 5 * 60_000, threeHours: now - 3 * HOUR, lastHour: now - 23 * HOUR + 60_000 };
    await attemptAt(webhookId, times.recent, true);
    await attemptAt(webhookId, times.recent, false);
    await attemptAt(webhookId, times.threeHours, true);
    await attemptAt(webhookId, times.threeHours, true);
    await attemptAt(webhookId, times.lastHour, false);
    // Outside the window, and a test send: neither counts.
    await attemptAt(webhookId, now - 30 * HOUR, true);
    await testSend(key, webhookId, true);

    const res = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(res.status).toBe(200);
    // Every field it had is still there.
    for (const field of ["state", "disabledReason", "consecutiveFailures", "attempts24h", "successRate24h", "p50Ms", "p95Ms"]) {
      expect(res.body).toHaveProperty(field);
    }
    const series = res.body.series as Point[];
    expect(series).toHaveLength(24);
    const starts = series.map((p) => Date.parse(p.start));
    for (let i = 1; i < 24; i++) expect(starts[i]! - starts[i - 1]!).toBe(HOUR);
    expect(starts[0]! % HOUR).toBe(0);
    // The last bucket is the current hour.
    expect(starts[23]).toBeLessThanOrEqual(Date.now());
    expect(starts[23]! + HOUR).toBeGreaterThan(now);

    const recent = bucketOf(series, times.recent, HOUR);
    const three = bucketOf(series, times.threeHours, HOUR);
    const oldest = bucketOf(series, times.lastHour, HOUR);
    expect(series[recent]).toMatchObject({ succeeded: 1, failed: 1 });
    expect(series[three]).toMatchObject({ succeeded: 2, failed: 0 });
    expect(series[oldest]).toMatchObject({ succeeded: 0, failed: 1 });
    const total = series.reduce((n, p) => n + p.succeeded + p.failed, 0);
    expect(total).toBe(5);
    expect(series.filter((p) => p.succeeded + p.failed === 0)).toHaveLength(24 - new Set([recent, three, oldest]).size);
  });

  it("7d: 7 daily buckets aligned to UTC days, today last", async () => {
    const { key, webhookId } = await deliverySetup();
    const now = Date.now();
    const threeDays = now - 3 * DAY;
    await attemptAt(webhookId, threeDays, true);
    await attemptAt(webhookId, threeDays, false);
    await attemptAt(webhookId, now - 60_000, true);
    await attemptAt(webhookId, now - 8 * DAY, false);

    const res = await call("GET", `/v1/webhooks/${webhookId}/stats?window=7d`, { key });
    expect(res.status).toBe(200);
    const series = res.body.series as Point[];
    expect(series).toHaveLength(7);
    for (const p of series) expect(p.start).toMatch(/T00:00:00\.000Z$/);
    const starts = series.map((p) => Date.parse(p.start));
    for (let i = 1; i < 7; i++) expect(starts[i]! - starts[i - 1]!).toBe(DAY);
    expect(starts[6]! + DAY).toBeGreaterThan(now);
    expect(series[bucketOf(series, threeDays, DAY)]).toMatchObject({ succeeded: 1, failed: 1 });
    expect(series[bucketOf(series, now - 60_000, DAY)]!.succeeded).toBeGreaterThanOrEqual(1);
    expect(series.reduce((n, p) => n + p.succeeded + p.failed, 0)).toBe(3);
    // attempts24h stays a rolling 24 h, whatever the window.
    expect(res.body.attempts24h).toBe(1);
  });

  it("an empty endpoint has every bucket, all zero; an unknown window is a 400", async () => {
    const { key, webhookId } = await deliverySetup();
    const res = await call("GET", `/v1/webhooks/${webhookId}/stats?window=24h`, { key });
    expect(res.body.series).toHaveLength(24);
    expect(res.body.series.every((p: Point) => p.succeeded === 0 && p.failed === 0)).toBe(true);
    const bad = await call("GET", `/v1/webhooks/${webhookId}/stats?window=30d`, { key });
    expectProblem(bad, 400, "invalid_query");
    expect(bad.body.errors[0].allowed).toEqual(["24h", "7d"]);
  });

  it("the operator's twin takes the window too", async () => {
    const { id } = await newOperatorEndpoint({ eventTypes: ["*"] });
    const res = await call("GET", `/admin/webhooks/${id}/stats?window=7d`, { admin: true });
    expect(res.status).toBe(200);
    expect(res.body.series).toHaveLength(7);
    expect((await call("GET", `/admin/webhooks/${id}/stats`, { admin: true })).body.series).toHaveLength(24);
  });
});
