import type { Mode } from "../../common/enums";
import type { Config } from "../../config";
import { shardsHolding } from "../../data/owners";
import { coveredShards } from "../../data/placement";
import { liveBuckets, objectName, retentionDaysOf } from "../../data/shard-map";
import type { TenantRow } from "../../db/tenants";
import { shardStub } from "../../objects";
import { clearTurns } from "../ordering/ordering";

const FAN_OUT = 16;

/**
 * Cancels a subscription's pending deliveries (it was deleted; a disabled
 * one's are held instead: src/delivery/breaker/breaker.ts) in every object that may hold one: each day in
 * retention of each shard of the tenants it receives from. A delivery
 * missed here (a shard count raised a moment ago in another isolate) is
 * still cancelled when it comes up for its attempt. `modes`: those the
 * subscription receives (a tenant's: its own; an operator endpoint's: its `modes`).
 */
export async function cancelPendingDeliveries(
  env: Env,
  config: Config,
  owner: TenantRow,
  webhookId: string,
  modes: readonly Mode[],
): Promise<number> {
  const names: string[] = [];
  for (const mode of modes) {
    const holders = await shardsHolding(env, owner, mode);
    for (const bucket of liveBuckets(Date.now(), retentionDaysOf(mode, config.eventRetentionDays))) {
      for (const t of holders) for (let shard = 0; shard < coveredShards(t); shard++) names.push(objectName(t.id, { bucket, shard, mode }));
    }
  }
  let cancelled = 0;
  for (let i = 0; i < names.length; i += FAN_OUT) {
    const counts = await Promise.all(names.slice(i, i + FAN_OUT).map((name) => shardStub(env, name).cancelPending(webhookId)));
    cancelled += counts.reduce((a, b) => a + b, 0);
  }
  // --- ordering --- Nothing of the subscription is pending any more: its ordered lines go too.
  await clearTurns(env, webhookId);
  return cancelled;
}
