import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createTenant } from "./client";
import { type Received, startReceiver, until } from "./receiver";

// The e2e instance runs with RETRY_SCHEDULE=1,2,3,4 (seconds) and DELIVERY_TIMEOUT_MS=1500.
const HIGH = { read: { limit: 100_000, windowSeconds: 60 }, write: { limit: 100_000, windowSeconds: 60 } };

describe("deliveries over real HTTP (wrangler dev + a receiver on 127.0.0.1)", () => {
  const failFirst = new Map<string, number>();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver((r, nth) => (nth <= (failFirst.get(r.path) ?? 0) ? "fail" : "ok"));
  });
  afterAll(() => receiver.close());

  async function setup(path: string, failures: number) {
    failFirst.set(path, failures);
    const { key } = await createTenant();
    const k = key.key;
    await api("PATCH", `/admin/tenants/${(await api("GET", "/v1/whoami", { key: k })).body.tenantId}`, {
      admin: true,
      body: { rateLimits: HIGH },
    });
    expect((await api("POST", "/v1/event-types", { key: k, body: { name: "order.created" } })).status).toBe(201);
    const hook = await api("POST", "/v1/webhooks", { key: k, body: { url: `${receiver.url}${path}`, eventTypes: ["order.created"] } });
    expect(hook.status).toBe(201);
    return { key: k, webhook: hook.body };
  }

  const at = (path: string) => receiver.received.filter((r: Received) => r.path === path);

  it("retries on the schedule with the same event id until the receiver accepts", async () => {
    const { key } = await setup("/flaky", 3);
    const published = await api("POST", "/v1/events", { key, body: { type: "order.created", data: { n: 1 } } });
    expect(published.status).toBe(202);
    const deliveryId = published.body.deliveries[0].id;

    const done = await until("succeeded", async () => {
      const d = await api("GET", `/v1/deliveries/${deliveryId}`, { key });
      return d.body.status === "succeeded" ? d.body : undefined;
    });
    const got = at("/flaky");
    expect(got).toHaveLength(4);
    expect(new Set(got.map((r) => r.headers["x-webhook-event-id"]))).toEqual(new Set([published.body.id]));
    expect(got.map((r) => r.headers["x-webhook-attempt"])).toEqual(["1", "2", "3", "4"]);
    // The gaps follow the schedule 1 s, 2 s, 3 s (+ up to 10% jitter, + queue latency).
    const gaps = got.slice(1).map((r, i) => (r.at - got[i]!.at) / 1000);
    expect(gaps[0]).toBeGreaterThanOrEqual(0.9);
    expect(gaps[1]).toBeGreaterThanOrEqual(1.9);
    expect(gaps[2]).toBeGreaterThanOrEqual(2.9);
    expect(done.attemptCount).toBe(4);
    expect(done.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 200]);
  });

  it("makes exactly the scheduled number of attempts, then marks the delivery failed", async () => {
    const { key } = await setup("/down", 1000);
    const published = await api("POST", "/v1/events", { key, body: { type: "order.created", data: { n: 2 } } });
    const deliveryId = published.body.deliveries[0].id;
    const failed = await until("failed", async () => {
      const d = await api("GET", `/v1/deliveries/${deliveryId}`, { key });
      return d.body.status === "failed" ? d.body : undefined;
    });
    expect(failed.attemptCount).toBe(5);
    expect(failed.attempts).toHaveLength(5);
    await new Promise((r) => setTimeout(r, 2000));
    expect(at("/down")).toHaveLength(5);
  });
});
