import { randomBase62 } from "../lib/crypto";

/**
 * Where a tenant's data-plane rows live. A tenant's events (with their
 * deliveries, attempts, idempotency claims and source requests) go to one
 * of `dataShards` objects of the day they were accepted: object
 * `<tenant>/<day>/<shard>`. A day is a bucket: retention drops a whole
 * bucket at once, and no object holds more than a day of one shard's share
 * of one tenant's traffic. Ids carry their bucket and shard, so a lookup by
 * id is one object call; the tenant always comes from the caller, never
 * from the id.
 */
export const BUCKET_MS = 86_400_000;
/** Day 0 of the buckets. */
export const BUCKET_EPOCH = Date.UTC(2024, 0, 1);
export const MAX_DATA_SHARDS = 64;
/** How long an idempotency key (or a source's delivery id) names its first event. */
export const CLAIM_WINDOW_MS = 24 * 3600 * 1000;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/**
 * Bucket (3 base62 characters: 650 years of days), shard (2 characters),
 * 16 random, and for a row kept in another tenant's shards (an operator
 * endpoint's delivery lives with its tenant's event) that tenant's id.
 */
const LOCATION = /^([0-9A-Za-z]{3})([0-9A-Za-z]{2})[0-9A-Za-z]{16}(?:_([0-9A-Za-z]{1,40}))?$/;
const TENANT_PREFIX = "ten_";

export type Location = { bucket: number; shard: number; home?: string };

export const bucketOf = (ms: number): number => Math.floor((ms - BUCKET_EPOCH) / BUCKET_MS);
export const bucketStart = (bucket: number): number => BUCKET_EPOCH + bucket * BUCKET_MS;

function base62(n: number, width: number): string {
  let out = "";
  let v = n;
  for (let i = 0; i < width; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

const unbase62 = (s: string) => [...s].reduce((n, ch) => n * 62 + BASE62.indexOf(ch), 0);

/** A new id that says where it lives: `<prefix>_<bucket><shard><16 random>[_<home tenant>]`. */
export function locatedId(prefix: string, where: Location): string {
  const home = where.home?.startsWith(TENANT_PREFIX) ? `_${where.home.slice(TENANT_PREFIX.length)}` : "";
  return `${prefix}_${base62(where.bucket, 3)}${base62(where.shard, 2)}${randomBase62(16)}${home}`;
}

/** Where an id lives, or null for an id that is not one of ours (an unknown id: 404). */
export function locate(id: string, prefix: string): Location | null {
  if (!id.startsWith(`${prefix}_`)) return null;
  const m = LOCATION.exec(id.slice(prefix.length + 1));
  if (!m) return null;
  const shard = unbase62(m[2]!);
  if (shard >= MAX_DATA_SHARDS) return null;
  return { bucket: unbase62(m[1]!), shard, ...(m[3] && { home: `${TENANT_PREFIX}${m[3]}` }) };
}

/** FNV-1a (32 bit) of the UTF-8 bytes: a stable spread of keys over shards. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const objectName = (tenantId: string, where: Location) => `${tenantId}/${where.bucket}/${where.shard}`;

/** The buckets a tenant may still hold data in, newest first: today back to the retention horizon. */
export function liveBuckets(now: number, retentionDays: number, range: { since?: Date; until?: Date } = {}): number[] {
  const newest = bucketOf(Math.min(now, range.until?.getTime() ?? now));
  const oldest = Math.max(bucketOf(now - retentionDays * BUCKET_MS), range.since ? bucketOf(range.since.getTime()) : -Infinity);
  const out: number[] = [];
  for (let b = newest; b >= oldest; b--) out.push(b);
  return out;
}
