import type { DeliveryRecord, EventRecord } from "../data/records";
import type { WebhookRow } from "../db/webhooks";
import type { Config, Env } from "../env";
import { attemptDelivery, settingsOwner, shardOfDelivery } from "./attempt";
import { governorFor } from "./endpoint-governor";

// While an attempt is in flight the repair leaves the row alone for this long past the timeout.
export const LEASE_MARGIN_MS = 30_000;

export type AttemptTarget = { delivery: DeliveryRecord; webhook: WebhookRow; event: EventRecord; manual: boolean };

/** After one try: done (sent and settled, or nothing to do), retry after the schedule's delay, or wait for the endpoint's flow control. */
export type RunResult = { kind: "done" } | { kind: "retry"; delaySeconds: number } | { kind: "wait"; waitMs: number };

const hasFlowControl = (w: WebhookRow) => w.rateLimit !== null || w.maxConcurrency !== null;

/**
 * The one way a delivery is attempted, from the queue or inline after a
 * publish: a flow-control permit first (waiting is neither an attempt nor a
 * breaker count), then the claim of attempt `attempts + 1` in its data
 * shard (so of two runners, one sends), then the attempt itself.
 */
export async function runAttempt(env: Env, config: Config, target: AttemptTarget): Promise<RunResult> {
  const { delivery, webhook } = target;
  const leaseMs = config.deliveryTimeoutMs + LEASE_MARGIN_MS;
  let permit: string | undefined;
  if (hasFlowControl(webhook)) {
    const granted = await governorFor(env, webhook.id).acquire(
      { rateLimit: webhook.rateLimit, maxConcurrency: webhook.maxConcurrency },
      leaseMs,
    );
    if (!granted.ok) return { kind: "wait", waitMs: granted.waitMs };
    permit = granted.permit;
  }
  const now = new Date();
  if (!(await shardOfDelivery(env, delivery).claim(delivery.id, delivery.attempts, now, new Date(now.getTime() + leaseMs)))) {
    if (permit) await governorFor(env, webhook.id).release(permit);
    return { kind: "done" };
  }
  const outcome = await attemptDelivery(env, config, {
    ...target,
    tenant: await settingsOwner(env, delivery),
    attempt: delivery.attempts + 1,
    ...(permit && { permit }),
  });
  return outcome.kind === "retry" ? { kind: "retry", delaySeconds: outcome.delaySeconds } : { kind: "done" };
}

/** A flow-control wait this short is held where the attempt runs; a longer one goes back to the queue. */
export const MAX_HOLD_MS = 1_000;
const MAX_HOLDS = 5;

/**
 * `runAttempt`, holding short flow-control waits in place (a few times),
 * and answering with what is left to schedule: a retry, or a wait to hand
 * to the queue.
 */
export async function runHoldingShortWaits(env: Env, config: Config, target: AttemptTarget): Promise<RunResult> {
  for (let i = 0; ; i++) {
    const result = await runAttempt(env, config, target);
    if (result.kind !== "wait" || result.waitMs > MAX_HOLD_MS || i === MAX_HOLDS - 1) return result;
    await new Promise((resolve) => setTimeout(resolve, result.waitMs));
  }
}

/**
 * Hands a flow-control wait back to the queue: the row's due time moves
 * with it (so the shard's repair does not take the wait for a lost
 * message), and a fresh message carries it, so the queue's retry count
 * (which ends in the dead-letter queue) is not spent on waiting.
 */
export async function requeueAfterWait(env: Env, delivery: DeliveryRecord, waitMs: number, manual: boolean): Promise<void> {
  const delaySeconds = Math.ceil(waitMs / 1000);
  await shardOfDelivery(env, delivery).defer(delivery.id, new Date(Date.now() + delaySeconds * 1000));
  await env.DELIVERY_QUEUE.send(
    { deliveryId: delivery.id, tenantId: delivery.eventTenantId, ...(manual && { manual: true }) },
    { delaySeconds },
  );
}
