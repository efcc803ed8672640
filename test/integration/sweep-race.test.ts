import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sweepOverdueDeliveries } from "../../src/delivery/sweep";
import { deliverySetup, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

/**
 * The sweep reads overdue rows, then bumps each. A consumer may claim a row
 * between the two: the bump must then change nothing and the row must not be
 * re-enqueued, or the endpoint would get the delivery twice.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

const OVERDUE_READ = /select .* from "deliveries" where .*"status" = \? and .*"next_attempt_at" < \?/i;

/**
 * `real` with `afterRead` run once, right after the sweep's read of overdue
 * rows has its results and before the sweep sees them.
 */
function pausingAfterOverdueRead(real: D1Database, afterRead: () => Promise<void>): { db: D1Database; paused: () => boolean } {
  let paused = false;
  const wrapBound = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "bind") return (...args: unknown[]) => wrapBound(value.apply(target, args));
        if (prop !== "all" && prop !== "raw" && prop !== "first" && prop !== "run") return value.bind(target);
        return async (...args: unknown[]) => {
          const result = await value.apply(target, args);
          if (!paused) {
            paused = true;
            await afterRead();
          }
          return result;
        };
      },
    });
  const db = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "prepare") return (sql: string) => (OVERDUE_READ.test(sql) ? wrapBound(target.prepare(sql)) : target.prepare(sql));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, paused: () => paused };
}

async function overdueDelivery() {
  const queue = await stubDeliveryQueue();
  const { key } = await deliverySetup();
  const id = (await publishEvent(key, "invoice.paid")).deliveryIds[0]!;
  await env.DB.prepare("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?")
    .bind(Date.now() - 10 * 60_000, id)
    .run();
  return { queue, id };
}

const row = (id: string) =>
  env.DB.prepare("SELECT status, attempts, next_attempt_at FROM deliveries WHERE id = ?")
    .bind(id)
    .first<{ status: string; attempts: number; next_attempt_at: number }>();

describe("the sweep against a consumer claiming the same row", () => {
  it("a row claimed between the sweep's read and its bump keeps its lease and is not re-enqueued", async () => {
    const { queue, id } = await overdueDelivery();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sending!: () => void;
    const inFlight = new Promise<void>((r) => (sending = r));
    const endpoint = await stubEndpoint(async () => {
      sending();
      await gate;
      return new Response("ok");
    });

    let consumer: ReturnType<typeof runDeliveryConsumer> | undefined;
    const { db, paused } = pausingAfterOverdueRead(env.DB, async () => {
      // The sweep has read the row as overdue; now the consumer claims it and starts sending.
      consumer = runDeliveryConsumer([id], "hookgate-deliveries", { due: false });
      await inFlight;
    });
    const sentBefore = queue.sent().length;
    await sweepOverdueDeliveries({ ...env, DB: db });
    expect(paused()).toBe(true);

    const leased = (await row(id))!;
    expect(leased).toMatchObject({ status: "pending", attempts: 1 });
    // Still the consumer's lease (the timeout plus a margin ahead), not moved back to now.
    expect(leased.next_attempt_at).toBeGreaterThan(Date.now() + 10_000);
    expect(
      queue
        .sent()
        .slice(sentBefore)
        .map((m) => m.deliveryId),
    ).not.toContain(id);

    release();
    const result = await consumer!;
    expect(result.explicitAcks).toEqual(result.ids);
    expect(endpoint.calls).toHaveLength(1);
    expect((await row(id))!.status).toBe("succeeded");
  });

  it("a row the sweep read and nobody claimed is bumped and re-enqueued once (the same pause, no race)", async () => {
    const { queue, id } = await overdueDelivery();
    const { db, paused } = pausingAfterOverdueRead(env.DB, async () => {});
    const sentBefore = queue.sent().length;
    const before = Date.now();
    await sweepOverdueDeliveries({ ...env, DB: db });
    expect(paused()).toBe(true);
    const swept = queue
      .sent()
      .slice(sentBefore)
      .map((m) => m.deliveryId);
    expect(swept.filter((d) => d === id)).toHaveLength(1);
    const bumped = (await row(id))!;
    expect(bumped).toMatchObject({ status: "pending", attempts: 0 });
    expect(bumped.next_attempt_at).toBeGreaterThanOrEqual(before - 1000);
  });

  it("a row settled between the read and the bump is left settled and not re-enqueued", async () => {
    const { queue, id } = await overdueDelivery();
    const endpoint = await stubEndpoint(new Response("ok"));
    const { db } = pausingAfterOverdueRead(env.DB, async () => {
      await runDeliveryConsumer([id], "hookgate-deliveries", { due: false });
    });
    const sentBefore = queue.sent().length;
    await sweepOverdueDeliveries({ ...env, DB: db });
    expect((await row(id))!.status).toBe("succeeded");
    expect(
      queue
        .sent()
        .slice(sentBefore)
        .map((m) => m.deliveryId),
    ).not.toContain(id);
    expect(endpoint.calls).toHaveLength(1);
  });
});
