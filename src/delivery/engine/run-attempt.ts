import type { Config } from "../../config";
import { attemptMessage, enqueueDeliveries, type QueueMessage, sendToQueue } from "../../data/outbox";
import { objectOfId } from "../../data/placement";
import type { DeliveryRecord, EventRecord } from "../../data/records";
import { createDb } from "../../db/client";
import { type WebhookRow, webhookById } from "../../db/webhooks";
import { governorFor, shardStub } from "../../objects";
import { isOrdered, passTurn, takeTurn, wakeByQueue } from "../ordering/ordering";
import type { WakeTarget } from "../ordering/sequencer";
import type { DeliveryPorts } from "../ports";
import { transportFor } from "../transport";
import { type AttemptOutcome, attemptDelivery, settingsOwner, shardOfDelivery } from "./attempt";
import { LEASE_MARGIN_MS } from "./lease";

export { LEASE_MARGIN_MS };

export type AttemptTarget = {
  delivery: DeliveryRecord;
  webhook: WebhookRow;
  event: EventRecord;
  manual: boolean;
  probe?: boolean;
  /** Ordered delivery: the runner was just handed its key's turn (src/delivery/ordering/ordering.ts), so it need not ask. */
  turnHeld?: boolean;
};

/**
 * After one try: done (sent and settled, with the attempt's outcome; or nothing to do, without one: another
 * runner had claimed it), retry after the schedule's delay, or wait for the endpoint's flow control.
 */
export type RunResult =
  | { kind: "done"; outcome?: AttemptOutcome["kind"]; next?: WakeTarget }
  | { kind: "retry"; delaySeconds: number }
  | { kind: "wait"; waitMs: number };

const hasFlowControl = (w: WebhookRow) => w.rateLimit !== null || w.maxConcurrency !== null;

/**
 * The one way a delivery is attempted, from the queue or inline after a
 * publish: a flow-control permit first (waiting is neither an attempt nor a
 * breaker count), then the claim of attempt `attempts + 1` in its data
 * shard (so of two runners, one sends), then the attempt itself.
 */
export async function runAttempt(env: Env, config: Config, ports: DeliveryPorts, target: AttemptTarget): Promise<RunResult> {
  const { delivery, webhook } = target;
  const leaseMs = config.deliveryTimeoutMs + LEASE_MARGIN_MS;
  // A receiver that may be away (a `hookgate listen` session with no CLI connected): the delivery waits its turn there (no attempt).
  const transport = transportFor(ports.transports, webhook.url);
  const awayMs = transport.wait ? await transport.wait(webhook.url, delivery) : null;
  if (awayMs !== null) return { kind: "wait", waitMs: awayMs };
  // --- ordering --- Only the holder of its key's turn is attempted. Waiting is no attempt: the row comes up
  // again at its recheck time unless it is woken first. Manual re-sends and breaker probes go outside the lines.
  const ordered = isOrdered(webhook) && !target.manual && !target.probe;
  if (ordered && !target.turnHeld) {
    const turn = await takeTurn(env, delivery, target.event.orderingKey ?? null);
    if (!turn.go) {
      await shardOfDelivery(env, delivery).defer(delivery.id, new Date(Date.now() + turn.recheckMs));
      return { kind: "done" };
    }
  }
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
  const outcome = await attemptDelivery(env, config, ports, {
    ...target,
    tenant: await settingsOwner(env, delivery),
    attempt: delivery.attempts + 1,
    ...(permit && { permit }),
  });
  if (outcome.kind === "retry") return { kind: "retry", delaySeconds: outcome.delaySeconds };
  // Settled for good (a held delivery keeps its turn): the next of its key holds the turn now.
  const settled = outcome.kind !== "disabled" || outcome.reason === "gone";
  const next = isOrdered(webhook) && settled ? await passTurn(env, webhook.id, delivery.id) : null;
  return { kind: "done", outcome: outcome.kind, ...(next && { next }) };
}

/** A flow-control wait this short is held where the attempt runs; a longer one goes back to the queue. */
export const MAX_HOLD_MS = 1_000;
const MAX_HOLDS = 5;

/**
 * `runAttempt`, holding short flow-control waits in place (a few times),
 * and answering with what is left to schedule: a retry, or a wait to hand
 * to the queue.
 */
export async function runHoldingShortWaits(env: Env, config: Config, ports: DeliveryPorts, target: AttemptTarget): Promise<RunResult> {
  const result = await runHolding(env, config, ports, target);
  if (result.kind === "done" && result.next) await handOn(env, config, ports, target.webhook, result);
  return result;
}

async function runHolding(env: Env, config: Config, ports: DeliveryPorts, target: AttemptTarget): Promise<RunResult> {
  for (let i = 0; ; i++) {
    const result = await runAttempt(env, config, ports, target);
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
export async function requeueAfterWait(env: Env, delivery: DeliveryRecord, waitMs: number, manual: boolean, probe = false): Promise<void> {
  const delaySeconds = Math.ceil(waitMs / 1000);
  await shardOfDelivery(env, delivery).defer(delivery.id, new Date(Date.now() + delaySeconds * 1000));
  const body: QueueMessage = probe
    ? { kind: "probe", deliveryId: delivery.id, tenantId: delivery.eventTenantId }
    : attemptMessage(delivery.id, delivery.eventTenantId, manual);
  await sendToQueue(env, [{ body, delaySeconds }]);
}

// --- ordering ---
/** How long one runner keeps handing an ordered line's turn on in place before the queue takes over. */
const LINE_BUDGET_MS = 10_000;

/**
 * Runs the deliveries an ordered line hands its turn to, one after the
 * other, where the previous one ran (no queue hop between them), until one
 * must wait (a retry, flow control) or the budget is spent; then the queue
 * carries the turn on. A woken delivery not stored yet (its publish is
 * between registering and writing) is woken again a second later.
 */
async function followLine(env: Env, config: Config, ports: DeliveryPorts, webhook: WebhookRow, first: WakeTarget): Promise<void> {
  const deadline = Date.now() + LINE_BUDGET_MS;
  let next: WakeTarget | null = first;
  while (next) {
    const wake: WakeTarget = next;
    next = null;
    if (Date.now() > deadline) return wakeByQueue(env, webhook.id, [wake]);
    const row = await loadWoken(env, wake);
    if (!row) return wakeByQueue(env, webhook.id, [wake], 1);
    const { delivery, event } = row;
    // Settled meanwhile (cancelled, or a manual re-send): its turn passes on.
    if (delivery.status !== "pending" || !event) {
      next = await passTurn(env, webhook.id, delivery.id);
      continue;
    }
    // The subscription as it is now, not as the line's first runner read it: a change made meanwhile (a
    // rotated secret, a new URL) applies to this delivery. Disabled or deleted: the consumer holds or cancels it.
    const current = await webhookById(createDb(env.DB), webhook.id);
    if (!current || current.deletedAt || !current.isEnabled) return wakeByQueue(env, webhook.id, [wake]);
    try {
      const result = await runHolding(env, config, ports, { delivery, webhook: current, event, manual: false, turnHeld: true });
      if (result.kind === "retry") await enqueueDeliveries(env, [delivery], { delaySeconds: result.delaySeconds });
      else if (result.kind === "wait") await requeueAfterWait(env, delivery, result.waitMs, false);
      else if (result.outcome === "disabled" && result.next) return handOn(env, config, ports, webhook, result);
      else next = result.next ?? null;
    } catch (err) {
      console.error(`ordering ${webhook.id}: ${delivery.id} failed to run; the queue takes it`, err);
      return wakeByQueue(env, webhook.id, [wake], 30);
    }
  }
}
/** Passes the turn on: in place, unless the attempt disabled the subscription (the queue then holds the next one). */
async function handOn(
  env: Env,
  config: Config,
  ports: DeliveryPorts,
  webhook: WebhookRow,
  result: { outcome?: string; next?: WakeTarget },
): Promise<void> {
  if (!result.next) return;
  if (result.outcome === "disabled") return wakeByQueue(env, webhook.id, [result.next]);
  return followLine(env, config, ports, webhook, result.next);
}

/** A woken delivery's row; its publish may still be writing it (it registered first), so a miss is asked again shortly. */
async function loadWoken(env: Env, wake: WakeTarget) {
  const object = objectOfId(wake.eventTenantId, wake.deliveryId, "dlv");
  if (!object) return null;
  for (let i = 0; ; i++) {
    const row = await shardStub(env, object.name).loadForAttempt(wake.deliveryId);
    if (row || i === 3) return row;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
// --- end ordering ---
