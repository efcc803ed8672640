import type { Db } from "../db/client";
import { claimAttempt, type DeliveryRow } from "../db/deliveries";
import type { EventRow } from "../db/events";
import type { WebhookRow } from "../db/webhooks";
import type { Config, Env } from "../env";
import { cachedTenant } from "../tenants/cache";
import { isOperator, OPERATOR_TENANT } from "../tenants/operator";
import { attemptDelivery } from "./attempt";
import { governorFor } from "./endpoint-governor";

// While an attempt is in flight the sweep leaves the row alone for this long past the timeout.
export const LEASE_MARGIN_MS = 60_000;

export type AttemptTarget = { delivery: DeliveryRow; webhook: WebhookRow; event: EventRow; manual: boolean };

/** After one try: done (sent and settled, or nothing to do), retry after the schedule's delay, or wait for the endpoint's flow control. */
export type RunResult = { kind: "done" } | { kind: "retry"; delaySeconds: number } | { kind: "wait"; waitMs: number };

const hasFlowControl = (w: WebhookRow) => w.rateLimit !== null || w.maxConcurrency !== null;

/**
 * The one way a delivery is attempted, from the queue or inline after a
 * publish: a flow-control permit first (waiting is neither an attempt nor a
 * breaker count), then the claim of attempt `attempts + 1` (so of two
 * runners, one sends), then the attempt itself.
 */
export async function runAttempt(env: Env, db: Db, config: Config, target: AttemptTarget): Promise<RunResult> {
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
  if (!(await claimAttempt(db, delivery.id, delivery.attempts, now, new Date(now.getTime() + leaseMs)))) {
    if (permit) await governorFor(env, webhook.id).release(permit);
    return { kind: "done" };
  }
  const outcome = await attemptDelivery(env, db, config, {
    ...target,
    // The operator owns no tenant row: its endpoints follow the deployment's schedule and breaker threshold.
    tenant: isOperator(delivery.tenantId) ? OPERATOR_TENANT : await cachedTenant(env.DB, delivery.tenantId),
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
export async function runHoldingShortWaits(env: Env, db: Db, config: Config, target: AttemptTarget): Promise<RunResult> {
  for (let i = 0; ; i++) {
    const result = await runAttempt(env, db, config, target);
    if (result.kind !== "wait" || result.waitMs > MAX_HOLD_MS || i === MAX_HOLDS - 1) return result;
    await new Promise((resolve) => setTimeout(resolve, result.waitMs));
  }
}
