import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { governorFor } from "../../src/objects";
import { deliveryRow } from "./data-plane";
import { call, deliverySetup, getDelivery, publishEvent, runDeliveryConsumer, stubDeliveryQueue, stubEndpoint } from "./helpers";

/**
 * A delivery that comes up while its subscription's breaker is open is held
 * and listed with the governor. Neither a run that dies half-way nor a hold
 * that ends meanwhile may leave it held and unlisted, where nothing would
 * ever send or fail it.
 */

afterEach(() => vi.restoreAllMocks());

/** A subscription tripped by `a`'s failure, with `b` (published before the trip) still to come up. */
async function tripped() {
  const setup = await deliverySetup({ tenant: { breakerThreshold: 1 } });
  const queue = await stubDeliveryQueue();
  const endpoint = await stubEndpoint(new Response("down", { status: 500 }));
  const a = (await publishEvent(setup.key, "invoice.paid", { n: "a" })).deliveryIds[0]!;
  const b = (await publishEvent(setup.key, "invoice.paid", { n: "b" })).deliveryIds[0]!;
  await runDeliveryConsumer([a]);
  expect((await call("GET", `/v1/webhooks/${setup.webhookId}`, { key: setup.key })).body.disabledReason).toBe("circuit_breaker");
  return { ...setup, queue, endpoint, a, b };
}

/** Wraps the next stub a namespace hands out, so that `method` first runs `before` (once). */
function interceptOnce(namespace: unknown, method: string, before: () => Promise<unknown>) {
  const ns = namespace as { get(id: DurableObjectId): object };
  const get = ns.get.bind(ns);
  const spy = vi.spyOn(ns, "get").mockImplementation((id: DurableObjectId) => {
    const stub = get(id);
    return new Proxy(stub, {
      get: (target, prop) => {
        const call = (...args: unknown[]) => (target as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
        if (prop !== method) return typeof Reflect.get(target, prop) === "function" ? call : Reflect.get(target, prop);
        return async (...args: unknown[]) => {
          spy.mockRestore();
          await before();
          return call(...args);
        };
      },
    });
  });
}

describe("holding a delivery that comes up while the breaker is open", () => {
  it("a run that dies before the row is held leaves it due: it is held on the next run, and released in order", async () => {
    const t = await tripped();
    interceptOnce(env.ENDPOINT_GOVERNOR, "holdFor", async () => {
      throw new Error("the isolate died");
    });
    const died = await runDeliveryConsumer([t.b]);
    expect(died.retryMessages).toHaveLength(1);
    expect((await deliveryRow(t.b))!.next_attempt_at, "still due: the shard's repair brings it back").not.toBeNull();

    await runDeliveryConsumer([t.b]);
    expect(await getDelivery(t.key, t.b)).toMatchObject({ status: "pending", attemptCount: 0, nextAttemptAt: null });
    await t.endpoint.answerWith(new Response("ok"));
    const before = t.queue.sent().length;
    expect((await call("PATCH", `/v1/webhooks/${t.webhookId}`, { key: t.key, body: { isEnabled: true } })).status).toBe(200);
    const released = t.queue
      .sent()
      .slice(before)
      .map((m) => m.deliveryId);
    expect(released).toEqual([t.a, t.b]);
    await runDeliveryConsumer(released);
    for (const id of [t.a, t.b]) expect((await getDelivery(t.key, id)).status).toBe("succeeded");
  });

  it("a hold that ends while the row is being held: the row goes out at once", async () => {
    const t = await tripped();
    // The breaker is reset between the governor listing b and b's row being held.
    interceptOnce(env.DATA_SHARD, "hold", () => governorFor(env, t.webhookId).reset());
    const before = t.queue.sent().length;
    // b is due already (its first attempt): the helper need not move its time, which would go through the wrapped stub.
    await runDeliveryConsumer([t.b], "hookgate-deliveries", { due: false });
    expect(
      t.queue
        .sent()
        .slice(before)
        .map((m) => m.deliveryId),
    ).toEqual([t.b]);
    expect((await deliveryRow(t.b))!.next_attempt_at).not.toBeNull();
  });
});
