import type { TenantOp } from "../auth/caller";
import { shardsHolding } from "../data/owners";
import { coveredShards } from "../data/placement";
import { liveBuckets, objectName, retentionDaysOf } from "../data/shard-map";
import type { ReplayFilter } from "../data/shard-reads";
import { shardStub } from "../objects";

/** Object calls one match keeps in flight at once. */
const FAN_OUT = 16;

export type ReplayMatch = { matched: number; rows: { id: string; eventTenantId: string; createdAt: number }[] };

/**
 * The deliveries a replay picks, across every object that may hold them
 * (each day in the range, each shard of each tenant the owner's deliveries
 * live with) of the caller's mode, oldest day first: how many in all, and the oldest `limit`.
 */
export async function matchDeliveries(
  op: Pick<TenantOp, "env" | "config" | "tenant" | "mode">,
  f: ReplayFilter,
  limit: number,
): Promise<ReplayMatch> {
  const holders = await shardsHolding(op.env, op.tenant, op.mode);
  const range = { since: new Date(f.since), ...(f.until !== undefined && { until: new Date(f.until - 1) }) };
  const buckets = liveBuckets(Date.now(), retentionDaysOf(op.mode, op.config.eventRetentionDays), range).reverse();
  let matched = 0;
  const rows: ReplayMatch["rows"] = [];
  for (const bucket of buckets) {
    const objects = holders.flatMap((t) =>
      Array.from({ length: coveredShards(t) }, (_, shard) => ({ tenantId: t.id, name: objectName(t.id, { bucket, shard, mode: t.mode }) })),
    );
    const need = Math.max(0, limit - rows.length);
    const found: typeof rows = [];
    for (let i = 0; i < objects.length; i += FAN_OUT) {
      const answers = await Promise.all(
        objects.slice(i, i + FAN_OUT).map(async ({ tenantId, name }) => {
          const r = await shardStub(op.env, name).replayMatches(f, need);
          return { count: r.count, rows: r.rows.map((d) => ({ ...d, eventTenantId: tenantId })) };
        }),
      );
      for (const a of answers) {
        matched += a.count;
        found.push(...a.rows);
      }
    }
    // A day's objects are disjoint in time from the next day's: sorting within the day keeps the whole oldest first.
    rows.push(...found.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).slice(0, need));
  }
  return { matched, rows };
}
