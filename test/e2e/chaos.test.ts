import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createTenant } from "./client";
import { startReceiver, until } from "./receiver";

/**
 * 500 events to a receiver that fails (500) or hangs a random 40% of
 * attempts. Every event must end delivered, none lost; duplicates only as
 * retries of the same event id. To let every event finish inside the
 * schedule, an event's attempts stop misbehaving after its fourth failure
 * (the tenant's schedule allows eight retries). The type has two payload
 * versions and the endpoint is pinned to the older one: every delivery,
 * retries included, is converted on the way out.
 */
const EVENTS = 500;

describe("chaos: flaky and hanging receiver", () => {
  const failures = new Map<string, number>();
  const succeeded = new Map<string, number>();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  beforeAll(async () => {
    receiver = await startReceiver((r) => {
      const id = String(r.headers["x-webhook-event-id"]);
      const failed = failures.get(id) ?? 0;
      if (failed < 4 && random() < 0.4) {
        failures.set(id, failed + 1);
        return random() < 0.5 ? "fail" : "hang";
      }
      succeeded.set(id, (succeeded.get(id) ?? 0) + 1);
      return "ok";
    });
  });
  afterAll(() => receiver.close());

  it(`delivers all ${EVENTS} events`, { timeout: 600_000 }, async () => {
    const { key } = await createTenant();
    const me = await api("GET", "/v1/whoami", { key: key.key });
    const high = { limit: 100_000, windowSeconds: 60 };
    await api("PATCH", `/admin/tenants/${me.body.tenantId}`, {
      admin: true,
      body: { rateLimits: { read: high, write: high }, retrySchedule: [1, 1, 2, 2, 3, 3, 4, 4], breakerThreshold: 10_000 },
    });
    await api("POST", "/v1/event-types", { key: key.key, body: { name: "chaos.tick" } });
    // 2026-06-01 renamed `index` to `i`: the endpoint, pinned before it, gets `index`.
    const versions = "/v1/event-types/chaos.tick/versions";
    expect((await api("POST", versions, { key: key.key, body: { version: "2026-01-01" } })).status).toBe(201);
    const renamed = { version: "2026-06-01", downgrade: [{ op: "move", from: "/i", path: "/index" }] };
    expect((await api("POST", versions, { key: key.key, body: renamed })).status).toBe(201);
    const hook = await api("POST", "/v1/webhooks", {
      key: key.key,
      body: { url: `${receiver.url}/chaos`, eventTypes: ["chaos.tick"], version: "2026-01-01" },
    });
    expect(hook.status).toBe(201);

    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, EVENTS - i) }, (_, j) =>
          api("POST", "/v1/events", { key: key.key, body: { type: "chaos.tick", data: { i: i + j } } }),
        ),
      );
      for (const r of batch) {
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    }

    await until("every event delivered", () => (ids.every((id) => succeeded.has(id)) ? true : undefined), 540_000);
    // None lost, and nothing that was not published arrived.
    const seen = new Set(receiver.received.map((r) => String(r.headers["x-webhook-event-id"])));
    expect([...seen].sort()).toEqual([...ids].sort());
    // Duplicates are retries of the same id only: each attempt number appears once per event.
    const perEvent = new Map<string, string[]>();
    for (const r of receiver.received) {
      const id = String(r.headers["x-webhook-event-id"]);
      perEvent.set(id, [...(perEvent.get(id) ?? []), String(r.headers["x-webhook-attempt"])]);
    }
    for (const attempts of perEvent.values()) expect(new Set(attempts).size).toBe(attempts.length);
    // Every request carried the pinned version's shape.
    for (const r of receiver.received) {
      expect(r.headers["x-webhook-version"]).toBe("2026-01-01");
      const body = JSON.parse(r.body) as { version: string; data: Record<string, unknown> };
      expect(body.version).toBe("2026-01-01");
      expect(Object.keys(body.data)).toEqual(["index"]);
    }

    const failed = await api("GET", `/v1/deliveries?webhookId=${hook.body.id}&status=failed`, { key: key.key });
    expect(failed.body.data).toEqual([]);
    console.log(
      `chaos: ${EVENTS} events, ${receiver.received.length} requests, ${[...failures.values()].reduce((a, b) => a + b, 0)} failed or hung`,
    );
  });
});
