import { afterEach, describe, expect, it, vi } from "vitest";
import { updateDelivery } from "./data-plane";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const DEFAULT_WINDOWS: [number, number][] = [
  [60, 66],
  [300, 330],
  [1800, 1980],
  [7200, 7920],
];

/** A tenant + webhook, the queue stubbed, and one published event's delivery. */
async function oneDelivery(opts: Parameters<typeof deliverySetup>[0] = {}) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup(opts);
  const { deliveryIds, eventId } = await publishEvent(setup.key, "invoice.paid");
  return { ...setup, queue, deliveryId: deliveryIds[0]!, eventId };
}

/** One consumer run that must end in a single retry; returns its delay. */
async function expectRetry(deliveryId: string): Promise<number> {
  const r = await runDeliveryConsumer([deliveryId]);
  expect(r.explicitAcks).toEqual([]);
  expect(r.retryMessages).toHaveLength(1);
  expect(r.retryMessages[0]!.msgId).toBe(r.ids[0]);
  return r.retryMessages[0]!.delaySeconds!;
}

/** One consumer run that must ack without retrying. */
async function expectAck(deliveryId: string | { deliveryId: string; manual?: boolean }) {
  const r = await runDeliveryConsumer([deliveryId]);
  expect(r.retryMessages).toEqual([]);
  expect(r.explicitAcks).toEqual(r.ids);
  return r;
}

describe("the retry schedule", () => {
  it("default: retries after 1m, 5m, 30m, 2h (+ up to 10%), then fails after attempt 5 and acks", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("down", { status: 500 }));
    for (const [i, [lo, hi]] of DEFAULT_WINDOWS.entries()) {
      const before = Date.now();
      const delay = await expectRetry(deliveryId);
      expect(delay, `after attempt ${i + 1}`).toBeGreaterThanOrEqual(lo);
      expect(delay, `after attempt ${i + 1}`).toBeLessThanOrEqual(hi);
      const d = await getDelivery(key, deliveryId);
      expect(d).toMatchObject({ status: "pending", attemptCount: i + 1, lastStatusCode: 500 });
      // The row says when the next attempt is due: now + the same delay.
      const due = Date.parse(d.nextAttemptAt);
      expect(due).toBeGreaterThanOrEqual(before + delay * 1000 - 50);
      expect(due).toBeLessThanOrEqual(Date.now() + delay * 1000 + 50);
    }
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(5);
    expect(endpoint.calls.map((c) => c.headers.get("x-webhook-attempt"))).toEqual(["1", "2", "3", "4", "5"]);
    const d = await getDelivery(key, deliveryId);
    expect(d).toMatchObject({ status: "failed", attemptCount: 5, lastStatusCode: 500, nextAttemptAt: null });
    expect(d.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    // A late duplicate of the message sends nothing more.
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(5);
  });

  it("a per-tenant retrySchedule of 10s, 30s: delays 10..11 and 30..33, then failed after 3 attempts", async () => {
    const { key, tenantId, deliveryId } = await oneDelivery();
    const patched = await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { retrySchedule: ["10s", "30s"] } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.retrySchedule).toEqual([10, 30]);
    const endpoint = await stubEndpoint(new Response("down", { status: 502 }));
    const first = await expectRetry(deliveryId);
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThanOrEqual(11);
    const second = await expectRetry(deliveryId);
    expect(second).toBeGreaterThanOrEqual(30);
    expect(second).toBeLessThanOrEqual(33);
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(3);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "failed", attemptCount: 3, lastStatusCode: 502 });
  });

  it("a succeeding attempt settles the delivery and acks", async () => {
    const { key, deliveryId } = await oneDelivery();
    await stubEndpoint((_c, n) => new Response("", { status: n === 1 ? 500 : 204 }));
    await expectRetry(deliveryId);
    await expectAck(deliveryId);
    expect(await getDelivery(key, deliveryId)).toMatchObject({
      status: "succeeded",
      attemptCount: 2,
      lastStatusCode: 204,
      nextAttemptAt: null,
    });
  });

  it("jitter spreads the first delay over [60, 66] across many deliveries", async () => {
    const queue = await stubDeliveryQueue();
    const { key } = await deliverySetup();
    await stubEndpoint(new Response("down", { status: 500 }));
    const ids: string[] = [];
    // 15 < the breaker threshold (20), which would otherwise disable the subscription.
    for (let i = 0; i < 15; i++) ids.push(...(await publishEvent(key, "invoice.paid", { i })).deliveryIds);
    const r = await runDeliveryConsumer(ids);
    expect(r.retryMessages).toHaveLength(15);
    const delays = r.retryMessages.map((m) => m.delaySeconds!);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(60);
      expect(d).toBeLessThanOrEqual(66);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(queue.sent()).toHaveLength(15);
  });
});

describe("Retry-After", () => {
  for (const status of [429, 503]) {
    it(`a ${status} with Retry-After: 900 makes the next delay 900`, async () => {
      const { key, deliveryId } = await oneDelivery();
      await stubEndpoint(new Response("slow down", { status, headers: { "Retry-After": "900" } }));
      expect(await expectRetry(deliveryId)).toBe(900);
      expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "pending", lastStatusCode: status });
    });
  }

  it("is capped at 12 h (43200 s)", async () => {
    const { deliveryId } = await oneDelivery();
    await stubEndpoint(new Response("", { status: 429, headers: { "Retry-After": "100000" } }));
    expect(await expectRetry(deliveryId)).toBe(43_200);
  });

  it("an HTTP-date Retry-After is honoured too", async () => {
    const { deliveryId } = await oneDelivery();
    await stubEndpoint(() => new Response("", { status: 503, headers: { "Retry-After": new Date(Date.now() + 1_800_000).toUTCString() } }));
    const delay = await expectRetry(deliveryId);
    expect(delay).toBeGreaterThanOrEqual(1795);
    expect(delay).toBeLessThanOrEqual(1801);
  });

  it("is ignored when shorter than the scheduled delay", async () => {
    const { deliveryId } = await oneDelivery();
    await stubEndpoint(new Response("", { status: 429, headers: { "Retry-After": "5" } }));
    const delay = await expectRetry(deliveryId);
    expect(delay).toBeGreaterThanOrEqual(60);
    expect(delay).toBeLessThanOrEqual(66);
  });

  it("does not extend the schedule past its last attempt", async () => {
    const { key, tenantId, deliveryId } = await oneDelivery();
    expect((await call("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { retrySchedule: ["10s"] } })).status).toBe(200);
    await stubEndpoint(new Response("", { status: 429, headers: { "Retry-After": "900" } }));
    expect(await expectRetry(deliveryId)).toBe(900);
    await expectAck(deliveryId);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "failed", attemptCount: 2, lastStatusCode: 429 });
  });
});

describe("410 Gone", () => {
  it("disables the subscription at once and holds its other pending deliveries", async () => {
    const { key, webhookId, deliveryId } = await oneDelivery();
    const other = (await publishEvent(key, "invoice.paid", { n: 2 })).deliveryIds[0]!;
    const endpoint = await stubEndpoint(new Response("gone", { status: 410 }));
    await expectAck(deliveryId);
    expect(endpoint.calls).toHaveLength(1);
    const wh = await call("GET", `/v1/webhooks/${webhookId}`, { key });
    expect(wh.body).toMatchObject({ isEnabled: false, disabledReason: "gone" });
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "failed", attemptCount: 1, lastStatusCode: 410 });
    // Its queued message sends nothing: the delivery is held (pending) until the subscription is enabled again.
    await expectAck(other);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, other)).toMatchObject({ status: "pending", attemptCount: 0 });
    const audit = await call("GET", "/v1/audit-log?action=webhook.disabled", { key });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor: "system", action: "webhook.disabled", target: webhookId });
    const stats = await call("GET", `/v1/webhooks/${webhookId}/stats`, { key });
    expect(stats.body).toMatchObject({ state: "closed", disabledReason: "gone" });
    // Publishing now fans out to nobody.
    expect((await publishEvent(key, "invoice.paid")).deliveryIds).toEqual([]);
  });
});

describe("failure kinds in the attempt log", () => {
  async function failWith(answer: Parameters<typeof stubEndpoint>[0]) {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(answer);
    const delay = await expectRetry(deliveryId);
    expect(delay).toBeGreaterThanOrEqual(60);
    expect(delay).toBeLessThanOrEqual(66);
    expect(endpoint.calls).toHaveLength(1);
    const d = await getDelivery(key, deliveryId);
    expect(d.status).toBe("pending");
    expect(d.attempts).toHaveLength(1);
    return d.attempts[0];
  }

  it("a timeout is logged as `timeout`", async () => {
    const a = await failWith(() => Promise.reject(new DOMException("The operation was aborted due to timeout", "TimeoutError")));
    expect(a).toMatchObject({ statusCode: null, error: "timeout", responseBody: null });
  });

  it("an aborted fetch (the timeout signal firing) is logged as `timeout`", async () => {
    const a = await failWith(() => Promise.reject(new DOMException("The operation was aborted", "AbortError")));
    expect(a).toMatchObject({ statusCode: null, error: "timeout" });
  });

  it("the fetch is given an abort signal (the 10 s timeout)", async () => {
    const { deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("ok"));
    await expectAck(deliveryId);
    expect(endpoint.calls[0]!.init.signal).toBeInstanceOf(AbortSignal);
    expect(endpoint.calls[0]!.init.signal!.aborted).toBe(false);
  });

  for (const status of [301, 302, 307, 308]) {
    it(`a ${status} is a failure logged as \`redirect\` and not followed`, async () => {
      const a = await failWith(() => new Response(null, { status, headers: { Location: "https://elsewhere.example.com/" } }));
      expect(a).toMatchObject({ statusCode: status, error: "redirect" });
    });
  }

  it("a thrown TypeError('Network connection lost') is `connection`", async () => {
    const a = await failWith(() => Promise.reject(new TypeError("Network connection lost.")));
    expect(a).toMatchObject({ statusCode: null, error: "connection", responseBody: null });
  });

  it("a DNS failure is `dns`", async () => {
    const a = await failWith(() => Promise.reject(new TypeError("DNS lookup failed")));
    expect(a).toMatchObject({ statusCode: null, error: "dns" });
  });

  it("a non-2xx answer is `http`", async () => {
    const a = await failWith(new Response("nope", { status: 404 }));
    expect(a).toMatchObject({ statusCode: 404, error: "http", responseBody: "nope" });
  });

  it("a 500 with Retry-After keeps the schedule (only 429/503 are honoured)", async () => {
    const a = await failWith(new Response("", { status: 500, headers: { "Retry-After": "900" } }));
    expect(a).toMatchObject({ statusCode: 500, error: "http" });
  });
});

describe("a late duplicate of a rescheduled message", () => {
  it("is dropped while the delivery is not yet due, and a copy arriving when due is attempted", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("down", { status: 500 }));
    const delay = await expectRetry(deliveryId);
    expect(delay).toBeGreaterThanOrEqual(60);
    expect(endpoint.calls).toHaveLength(1);

    // A second copy of the original message arrives now, ~60 s before the retry is due.
    const early = await runDeliveryConsumer([deliveryId], "hookgate-deliveries", { due: false });
    expect(early.retryMessages).toEqual([]);
    expect(early.explicitAcks).toEqual(early.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "pending", attemptCount: 1 });

    // The scheduled redelivery, when due, makes attempt 2.
    await expectRetry(deliveryId);
    expect(endpoint.calls.map((c) => c.headers.get("x-webhook-attempt"))).toEqual(["1", "2"]);
  });

  it("a manual retry is not held back by the schedule", async () => {
    const { key, deliveryId } = await oneDelivery();
    const endpoint = await stubEndpoint(new Response("ok", { status: 200 }));
    const later = Date.now() + 3_600_000;
    await updateDelivery(deliveryId, "next_attempt_at = ?", later);
    expect(Date.parse((await getDelivery(key, deliveryId)).nextAttemptAt)).toBe(later);
    const r = await runDeliveryConsumer([{ deliveryId, manual: true }], "hookgate-deliveries", { due: false });
    expect(r.explicitAcks).toEqual(r.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect(await getDelivery(key, deliveryId)).toMatchObject({ status: "succeeded", attemptCount: 1 });
  });
});
