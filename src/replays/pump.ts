import type { Config } from "../config";
import { enqueueDeliveries } from "../data/outbox";
import { objectOfId } from "../data/placement";
import type { WebhookRow } from "../db/webhooks";
import { runHoldingShortWaits } from "../delivery/engine/run-attempt";
import type { DeliveryPorts } from "../delivery/ports";
import { shardStub } from "../objects";
import type { ItemState, TakenItem } from "./lane-items";

/** Replay attempts in flight at once to an endpoint without flow control (bench/replay: 1 keeps live p99 flat at about the replay rate 2 or 4 reach locally; an endpoint that sets maxConcurrency gives the replay half of it). */
export const REPLAY_CONCURRENCY = 1;

/**
 * The replay's share of an endpoint: with flow control, half of its
 * concurrency and half of its rate (at least one), so live deliveries
 * always find the other half free; without, a few attempts at a time.
 */
export function replayPace(w: Pick<WebhookRow, "rateLimit" | "maxConcurrency">): { concurrency: number; perSecond: number | null } {
  return {
    concurrency: w.maxConcurrency === null ? REPLAY_CONCURRENCY : Math.max(1, Math.floor(w.maxConcurrency / 2)),
    perSecond: w.rateLimit === null ? null : Math.max(1, Math.floor(w.rateLimit / 2)),
  };
}

/** What became of one item: its new state (`waiting` until `notBefore`), and whether the lane must stop (the endpoint was disabled). */
export type ItemResult = { state: ItemState; notBefore?: number; stop?: boolean };

/**
 * One replayed delivery, as POST /v1/deliveries/:id/retry gives it: put back
 * to pending (only while it is still in one of the replay's statuses, so
 * nothing in flight is touched), then one manual attempt through the one
 * attempt path (flow-control permit, claim, send, breaker, settle).
 */
export async function replayOne(
  env: Env,
  config: Config,
  ports: DeliveryPorts,
  webhook: WebhookRow,
  statuses: string[],
  item: TakenItem,
): Promise<ItemResult> {
  const object = objectOfId(item.tenantId, item.deliveryId, "dlv");
  if (!object) return { state: "skipped" };
  const shard = shardStub(env, object.name);
  const target = item.reopened ? await shard.loadForAttempt(item.deliveryId) : await shard.reopenForReplay(item.deliveryId, statuses);
  if (target?.delivery.status !== "pending") return { state: "skipped" };
  if (!target.event) {
    await shard.settleIfPending(item.deliveryId, "cancelled");
    return { state: "skipped" };
  }
  const result = await runHoldingShortWaits(env, config, ports, { delivery: target.delivery, webhook, event: target.event, manual: true });
  if (result.kind === "done") {
    if (!result.outcome) return { state: "skipped" };
    return { state: result.outcome === "succeeded" ? "succeeded" : "failed", stop: result.outcome === "disabled" };
  }
  if (result.kind === "retry") {
    // A manual attempt is never rescheduled; should it ever be, the queue carries the retry.
    await enqueueDeliveries(env, [target.delivery], { delaySeconds: result.delaySeconds });
    return { state: "failed" };
  }
  // Flow control said wait: the row's due time moves with it, so the shard's repair leaves it to us.
  const until = Date.now() + result.waitMs;
  await shard.defer(item.deliveryId, new Date(until));
  return { state: "waiting", notBefore: until };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type PumpOptions = {
  concurrency: number;
  perSecond: number | null;
  /** When the replay's recent attempts started (oldest first): kept across pumps, so a new tick keeps the pace. */
  starts: number[];
  /** Work stops being taken at this time (the lane's alarm comes back for the rest). */
  deadline: number;
  /** The next due item, marked in flight; null when none is due. */
  take: () => TakenItem | null;
  /** Whether the replay still runs (a cancel, or the endpoint disabled, stops what has not been taken). */
  running: () => Promise<boolean>;
  run: (item: TakenItem) => Promise<ItemResult>;
  finish: (item: TakenItem, result: ItemResult) => void;
  /** An item whose attempt threw: left in flight for the lane to reconcile with its shard. */
  abandon: (item: TakenItem, err: unknown) => void;
};

/**
 * Feeds the replay's items to a few workers: at most `concurrency` in
 * flight and `perSecond` started in any second. Each takes the next item
 * when its last one is done, so one slow attempt does not hold up the rest.
 */
export async function pump(o: PumpOptions): Promise<void> {
  const starts = o.starts;
  let stopped = false;
  const worker = async () => {
    while (!stopped && Date.now() < o.deadline && (await o.running())) {
      if (o.perSecond !== null) {
        const now = Date.now();
        while (starts.length > 0 && starts[0]! <= now - 1000) starts.shift();
        if (starts.length >= o.perSecond) {
          await sleep(starts[0]! + 1000 - now);
          continue;
        }
      }
      const item = o.take();
      if (!item) return;
      starts.push(Date.now());
      try {
        const result = await o.run(item);
        o.finish(item, result);
        if (result.stop) stopped = true;
      } catch (err) {
        o.abandon(item, err);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}
