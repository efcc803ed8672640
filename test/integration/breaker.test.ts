import { afterEach, describe, expect, it, vi } from "vitest";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Drives failed attempts through the consumer, one at a time, across as many
 * deliveries as needed (each takes at most 5 attempts under the default schedule).
 * The endpoint answers with whatever `status.current` says.
 */
async function harness(opts: Parameters<typeof deliverySetup>[0] = {}) {
  const queue = await stubDeliveryQueue();
  const setup = await deliverySetup(opts);
  const status = { current: 500 };
  const endpoint = await stubEndpoint(() => new Response(status.current < 300 ? "ok" : "down", { status: status.current }));
  let current: string | null = null;
  const used: string[] = [];

  /** Attempts of the current delivery until it settles; a fresh one when needed. */
  async function attempt(answer: number) {
    status.current = answer;
    if (current) {
      const d = await getDelivery(setup.key, current);
      if (d.status !== "pending") current = null;
    }
    if (!current) {
      const { deliveryIds } = await publishEvent(setup.key, "invoice.paid", { n: used.length });
      expect(deliveryIds).toHaveLength(1);
      current = deliveryIds[0]!;
      used.push(current);
    }
    const before = endpoint.calls.length;
    const r = await runDeliveryConsumer([current]);
    expect(endpoint.calls.length, "one attempt per message").toBe(before + 1);
    return r;
  }
  const fail = async (n: number) => {
    let last: Awaited<ReturnType<typeof attempt>> | undefined;
    for (let i = 0; i < n; i++) last = await attempt(500);
    return last!;
  };
  const succeed = () => attempt(200);
  const webhook = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}`, { key: setup.key })).body;
  const stats = async () => (await call("GET", `/v1/webhooks/${setup.webhookId}/stats`, { key: setup.key })).body;
  return { ...setup, queue, endpoint, fail, succeed, webhook, stats, used, currentDelivery: () => current };
}

async function disabledAudit(key: string) {
  const r = await call("GET", "/v1/audit-log?action=webhook.disabled", { key });
  expect(r.status, r.text).toBe(200);
  return r.body.data as { actor: string; action: string; target: string; details: Record<string, unknown> | null }[];
}

describe("the circuit breaker", () => {
  it("disables the subscription at the 20th consecutive failed attempt, not the 19th", async () => {
    const h = await harness();
    await h.fail(19);
    expect(await h.webhook()).toMatchObject({ isEnabled: true, disabledReason: null });
    expect(await h.stats()).toMatchObject({ state: "closed", consecutiveFailures: 19, disabledReason: null, nextProbeAt: null });
    expect(await disabledAudit(h.key)).toEqual([]);
    // 19 attempts = 3 failed deliveries (5 each) + 4 attempts of a 4th; a 5th is waiting too.
    expect(h.used).toHaveLength(4);
    const waiting = (await publishEvent(h.key, "invoice.paid")).deliveryIds[0]!;

    const tripping = await h.fail(1);
    expect(tripping.retryMessages).toEqual([]);
    expect(tripping.explicitAcks).toEqual(tripping.ids);
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    expect(await h.stats()).toMatchObject({ state: "open", disabledReason: "circuit_breaker", consecutiveFailures: 20 });
    const audit = await disabledAudit(h.key);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: "system", action: "webhook.disabled", target: h.webhookId });
    expect(audit[0]!.details).toMatchObject({ reason: "circuit_breaker", consecutiveFailures: 20 });

    // The tripping delivery is held (pending, no due time, until a probe succeeds or give-up), not failed; the other pending one
    // is held when its message comes, which sends nothing.
    expect(await getDelivery(h.key, h.used[3]!)).toMatchObject({ status: "pending", attemptCount: 5, nextAttemptAt: null });
    const calls = h.endpoint.calls.length;
    const late = await runDeliveryConsumer([waiting]);
    expect(late.explicitAcks).toEqual(late.ids);
    expect(h.endpoint.calls).toHaveLength(calls);
    expect(await getDelivery(h.key, waiting)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
    // New events get their delivery too, held the same way (test/integration/breaker-outage.test.ts).
    const during = (await publishEvent(h.key, "invoice.paid")).deliveryIds;
    expect(during).toHaveLength(1);
    expect(await getDelivery(h.key, during[0]!)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
    expect(h.endpoint.calls).toHaveLength(calls);
  });

  it("the tripping attempt's message is acked, not retried, even mid-schedule", async () => {
    const h = await harness({ tenant: { breakerThreshold: 2 } });
    const first = await h.fail(1);
    expect(first.retryMessages).toHaveLength(1);
    const second = await h.fail(1);
    expect(second.retryMessages).toEqual([]);
    expect(second.explicitAcks).toEqual(second.ids);
    expect(await getDelivery(h.key, h.used[0]!)).toMatchObject({ status: "pending", attemptCount: 2, nextAttemptAt: null });
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
  });

  it("a success in between resets the count: 19 failures, 1 success, 19 failures → still enabled", async () => {
    const h = await harness();
    await h.fail(19);
    expect((await h.stats()).consecutiveFailures).toBe(19);
    await h.succeed();
    expect((await h.stats()).consecutiveFailures).toBe(0);
    await h.fail(19);
    expect(await h.webhook()).toMatchObject({ isEnabled: true, disabledReason: null });
    expect(await h.stats()).toMatchObject({ state: "closed", consecutiveFailures: 19 });
    expect(await disabledAudit(h.key)).toEqual([]);
    // ...and the next failure is the 20th in a row.
    await h.fail(1);
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
  });

  it("honours a per-tenant breakerThreshold (3)", async () => {
    const h = await harness();
    const patched = await call("PATCH", `/admin/tenants/${h.tenantId}`, { admin: true, body: { breakerThreshold: 3 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.breakerThreshold).toBe(3);
    await h.fail(2);
    expect(await h.webhook()).toMatchObject({ isEnabled: true });
    await h.fail(1);
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    expect(await h.stats()).toMatchObject({ consecutiveFailures: 3, state: "open" });
    expect((await disabledAudit(h.key))[0]).toMatchObject({ actor: "system", target: h.webhookId });
  });

  it("PATCH isEnabled: true re-enables and resets the count; the breaker can trip again", async () => {
    const h = await harness({ tenant: { breakerThreshold: 3 } });
    await h.fail(3);
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });

    const on = await call("PATCH", `/v1/webhooks/${h.webhookId}`, { key: h.key, body: { isEnabled: true } });
    expect(on.status, on.text).toBe(200);
    expect(on.body).toMatchObject({ isEnabled: true, disabledReason: null });
    expect(await h.stats()).toMatchObject({ state: "closed", disabledReason: null, consecutiveFailures: 0 });

    await h.fail(2);
    expect(await h.webhook()).toMatchObject({ isEnabled: true });
    expect((await h.stats()).consecutiveFailures).toBe(2);
    await h.fail(1);
    expect(await h.webhook()).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    expect(await disabledAudit(h.key)).toHaveLength(2);
  });

  it("PATCH isEnabled: false is a manual disable, not the breaker's", async () => {
    const h = await harness();
    await h.fail(2);
    const off = await call("PATCH", `/v1/webhooks/${h.webhookId}`, { key: h.key, body: { isEnabled: false } });
    expect(off.body).toMatchObject({ isEnabled: false, disabledReason: "manual" });
    // The breaker did not trip: it is closed, the subscription switched off.
    expect(await h.stats()).toMatchObject({ state: "closed", disabledReason: "manual", consecutiveFailures: 2, nextProbeAt: null });
    expect(await disabledAudit(h.key)).toEqual([]);
  });

  it("counts failures across concurrent attempts exactly and trips once", async () => {
    const queue = await stubDeliveryQueue();
    const { key, webhookId } = await deliverySetup({ tenant: { breakerThreshold: 5 } });
    const endpoint = await stubEndpoint(() => new Response("", { status: 500 }));
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(...(await publishEvent(key, "invoice.paid", { i })).deliveryIds);
    const r = await runDeliveryConsumer(ids);
    // Some of the 8 may have been held before their attempt started; at least 5 ran.
    expect(endpoint.calls.length).toBeGreaterThanOrEqual(5);
    expect(r.retryMessages.length + r.explicitAcks.length).toBe(8);
    const wh = (await call("GET", `/v1/webhooks/${webhookId}`, { key })).body;
    expect(wh).toMatchObject({ isEnabled: false, disabledReason: "circuit_breaker" });
    const audit = await disabledAudit(key);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ consecutiveFailures: 5 });
    expect(queue.sent()).toHaveLength(8);
    // Nothing is cancelled or failed: each is held, or waits for its retry (and is held when it comes up).
    const listed = await call("GET", `/v1/deliveries?webhookId=${webhookId}&limit=100`, { key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((d: { id: string }) => d.id).sort()).toEqual([...ids].sort());
    expect(listed.body.data.filter((d: { status: string }) => d.status !== "pending")).toEqual([]);
    expect(listed.body.data.filter((d: { nextAttemptAt: string | null }) => d.nextAttemptAt === null).length).toBeGreaterThanOrEqual(1);
  });

  it("test sends do not feed the breaker", async () => {
    const h = await harness({ tenant: { breakerThreshold: 2 } });
    await h.endpoint.answerWith(() => new Response("", { status: 500 }));
    for (let i = 0; i < 3; i++) {
      const t = await call("POST", `/v1/webhooks/${h.webhookId}/test`, { key: h.key, body: {} });
      expect(t.status, t.text).toBe(200);
      expect(t.body.success).toBe(false);
    }
    expect(h.endpoint.calls).toHaveLength(3);
    expect(await h.webhook()).toMatchObject({ isEnabled: true });
    expect((await h.stats()).consecutiveFailures).toBe(0);
  });
});
