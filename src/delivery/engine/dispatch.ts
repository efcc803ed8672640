import type { Config } from "../../config";
import { enqueueDeliveries } from "../../data/outbox";
import type { DeliveryRecord, EventRecord } from "../../data/records";
import type { WebhookRow } from "../../db/webhooks";
import { isSlow } from "../governor/endpoint-speed";
import { isOrdered } from "../ordering/ordering";
import type { DeliveryPorts } from "../ports";
import { transportFor } from "../transport";
import { attemptDelivery, settingsOwner } from "./attempt";
import { type AttemptTarget, LEASE_MARGIN_MS, requeueAfterWait, runHoldingShortWaits } from "./run-attempt";

/**
 * At most this many first attempts run inline per publish: an invocation may
 * hold 6 outbound connections at once, and D1, the Durable Objects and the
 * queue need the rest.
 */
export const INLINE_FANOUT = 4;

/**
 * What a publish's deliveries need beyond the rows: the parsed config, the
 * entry point's ports, and, for first attempts to run inline, a way to
 * outlive the response (without one, every first attempt is queued).
 */
export type DispatchRuntime = { config: Config; ports: DeliveryPorts; defer?: (work: Promise<unknown>) => void };

/**
 * Which of a publish's receivers get their first attempt inline, in the
 * same request's lifetime (`waitUntil`): a handful, of endpoints that have
 * been answering quickly. Those without flow control are claimed in the
 * publish's own batch (attempt 1, leased), so their attempt costs no
 * separate claim; a flow-controlled one asks its governor first.
 */
export function planInline(runtime: DispatchRuntime, receivers: WebhookRow[]): { preclaimed: Set<string>; inline: Set<string> } {
  const preclaimed = new Set<string>();
  const inline = new Set<string>();
  if (!runtime.defer || runtime.config.firstAttempt !== "inline") return { preclaimed, inline };
  for (const w of receivers) {
    if (inline.size >= INLINE_FANOUT) break;
    // A disabled one (its breaker open) is held, never attempted now.
    if (!w.isEnabled || isSlow(w.id)) continue;
    inline.add(w.id);
    // A receiver that may be away (a listen session: is a CLI connected?) is asked first (runAttempt does).
    // An ordered one must hold its key's turn first: it is claimed by runAttempt, once its place is known.
    const asksFirst = transportFor(runtime.ports.transports, w.url).wait !== undefined;
    if (w.rateLimit === null && w.maxConcurrency === null && !asksFirst && !isOrdered(w)) preclaimed.add(w.id);
  }
  return { preclaimed, inline };
}

/** A pre-claimed row's lease: the shard's repair leaves it alone while its inline attempt may be in flight. */
export const preclaimLease = (config: Config, now: Date) => new Date(now.getTime() + config.deliveryTimeoutMs + LEASE_MARGIN_MS);

/**
 * Starts the first attempts of a publish's stored deliveries: inline for
 * the planned ones, through the queue at once for the rest. The rows are
 * already stored, so a crash here loses nothing: an inline attempt that
 * dies mid-flight leaves a leased row that its shard's alarm repairs.
 */
export async function dispatchDeliveries(
  env: Env,
  runtime: DispatchRuntime,
  event: EventRecord,
  rows: DeliveryRecord[],
  webhooks: ReadonlyMap<string, WebhookRow>,
  plan: { preclaimed: Set<string>; inline: Set<string> },
): Promise<void> {
  const queued = rows.filter((r) => !plan.inline.has(r.webhookId));
  if (queued.length > 0) await enqueueDeliveries(env, queued);
  const defer = runtime.defer;
  if (!defer) return;
  for (const delivery of rows) {
    const webhook = webhooks.get(delivery.webhookId);
    if (!webhook || !plan.inline.has(webhook.id)) continue;
    // An ordered row here holds its key's turn: the publish registered it as the head (waiters are not dispatched).
    const target = { delivery, webhook, event, manual: false, ...(isOrdered(webhook) && { turnHeld: true }) };
    defer(attemptInline(env, runtime, target, plan.preclaimed.has(webhook.id)));
  }
}

/** One inline first attempt; what it cannot finish (a retry, a long wait, a failure to run) goes to the queue. */
async function attemptInline(env: Env, runtime: DispatchRuntime, target: AttemptTarget, preclaimed: boolean): Promise<void> {
  const { config, ports } = runtime;
  try {
    if (preclaimed) {
      const outcome = await attemptDelivery(env, config, ports, {
        ...target,
        tenant: await settingsOwner(env, target.delivery),
        attempt: 1,
      });
      if (outcome.kind === "retry") await enqueueDeliveries(env, [target.delivery], { delaySeconds: outcome.delaySeconds });
      return;
    }
    const result = await runHoldingShortWaits(env, config, ports, target);
    if (result.kind === "retry") await enqueueDeliveries(env, [target.delivery], { delaySeconds: result.delaySeconds });
    if (result.kind === "wait") await requeueAfterWait(env, target.delivery, result.waitMs, false);
  } catch (err) {
    // Unclaimed: the queue takes it from here; claimed and left leased: the shard's alarm does.
    console.error(`delivery ${target.delivery.id}: inline attempt failed to run`, err);
    if (!preclaimed) await enqueueDeliveries(env, [target.delivery], { delaySeconds: 30 });
  }
}
