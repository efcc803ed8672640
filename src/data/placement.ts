import type { Mode } from "../common/enums";
import { BUCKET_MS, bucketOf, CLAIM_WINDOW_MS, hash32, type Location, locate, MAX_DATA_SHARDS, modeOf, objectName } from "./shard-map";

/** A shard count that was in force until `until` (ms): kept for the claim window, so a repeated key still finds its first answer. */
export type ShardHistory = { shards: number; until: number }[];

/** What placement needs to know of a tenant, and which of its modes' objects are meant (test mode's are its own). */
export type DataTenant = { id: string; mode: Mode; dataShards: number; maxDataShards: number; shardHistory: ShardHistory | null };

/** Every shard index that may hold the tenant's data: the most it ever had (the count only grows here, whatever it is set to). */
export const coveredShards = (t: DataTenant): number => Math.min(MAX_DATA_SHARDS, Math.max(1, t.dataShards, t.maxDataShards));

const shardOfKey = (key: string, shards: number) => hash32(key) % Math.max(1, Math.min(MAX_DATA_SHARDS, shards));

export type Placement = Location & {
  /** `<tenant>/<bucket>/<shard>`: the object's name. */
  name: string;
  /** Other objects that may hold the key's first answer (a keyed publish only). */
  elsewhere: string[];
};

/**
 * Where a new event goes: today's bucket, and by the hash of its
 * idempotency key when it has one (so a repeat meets the first claim), else
 * any of `dataShards`. A key's first answer may also sit in yesterday's
 * bucket, or under a shard count changed within the claim window: those
 * objects are asked too.
 */
export function placeEvent(tenant: DataTenant, now: number, key?: string): Placement {
  const bucket = bucketOf(now);
  const shard = key === undefined ? Math.floor(Math.random() * Math.max(1, tenant.dataShards)) : shardOfKey(key, tenant.dataShards);
  const mode = tenant.mode === "test" ? { mode: tenant.mode } : {};
  const name = objectName(tenant.id, { bucket, shard, ...mode });
  if (key === undefined) return { bucket, shard, ...mode, name, elsewhere: [] };
  const counts = new Set([tenant.dataShards]);
  for (const h of tenant.shardHistory ?? []) if (h.until > now - CLAIM_WINDOW_MS) counts.add(h.shards);
  const elsewhere = new Set<string>();
  for (const n of counts) {
    for (const b of [bucket, bucket - 1]) elsewhere.add(objectName(tenant.id, { bucket: b, shard: shardOfKey(key, n), ...mode }));
  }
  elsewhere.delete(name);
  return { bucket, shard, ...mode, name, elsewhere: [...elsewhere] };
}

/** Any shard of today for a row that belongs to no event (a test send, a rejected request). */
export const placeLoose = (tenant: DataTenant, now: number): Placement => placeEvent(tenant, now);

/**
 * The object an id of `tenantId` names, or null when the id is not one of
 * ours (or, with `mode`, is another mode's). The tenant comes from the
 * caller: another tenant's id names an object of the caller's that does not
 * hold it, so the lookup finds nothing.
 */
export function objectOfId(tenantId: string, id: string, prefix: string, mode?: Mode): { name: string; where: Location } | null {
  const where = locate(id, prefix);
  if (!where || (mode !== undefined && modeOf(where) !== mode)) return null;
  return { name: objectName(tenantId, where), where };
}

/** The next shard history after a change of count at `now`: the old count is kept for the claim window. */
export function nextShardHistory(previous: Pick<DataTenant, "dataShards" | "shardHistory">, now: number): ShardHistory {
  const kept = (previous.shardHistory ?? []).filter((h) => h.until > now - CLAIM_WINDOW_MS - BUCKET_MS);
  return [...kept, { shards: previous.dataShards, until: now }];
}
