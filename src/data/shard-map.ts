import type { Mode } from "../common/enums";
import { randomBase62 } from "../lib/crypto";

/**
 * Where a tenant's data-plane rows live. A tenant's events (with their
 * deliveries, attempts, idempotency claims and source requests) go to one
 * of `dataShards` objects of the day they were accepted: object
 * `<tenant>/<day>/<shard>`. A day is a bucket: retention drops a whole
 * bucket at once, and no object holds more than a day of one shard's share
 * of one tenant's traffic. Test mode has objects of its own
 * (`<tenant>/test/<day>/<shard>`), kept TEST_RETENTION_DAYS. Ids carry
 * their bucket, shard and mode, so a lookup by id is one object call; the
 * tenant always comes from the caller, never from the id.
 */
export const BUCKET_MS = 86_400_000;
/** Day 0 of the buckets. */
export const BUCKET_EPOCH = Date.UTC(2024, 0, 1);
export const MAX_DATA_SHARDS = 64;
/** Test mode's data is kept this long, whatever EVENT_RETENTION_DAYS keeps live data. */
export const TEST_RETENTION_DAYS = 7;
/** A test-mode id's shard is written this much higher (still two characters): the id says its mode. */
const TEST_SHARD_OFFSET = 1024;
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

/** Where a row lives; `mode` absent is live (every id made before test mode existed is). */
export type Location = { bucket: number; shard: number; mode?: Mode; home?: string };

export const modeOf = (where: Pick<Location, "mode">): Mode => where.mode ?? "live";

/** How long a mode's data is kept, in days. */
export const retentionDaysOf = (mode: Mode, liveRetentionDays: number): number =>
  mode === "test" ? TEST_RETENTION_DAYS : liveRetentionDays;

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

/** A new id that says where it lives: `<prefix>_<bucket><shard and mode><16 random>[_<home tenant>]`. */
export function locatedId(prefix: string, where: Location): string {
  const home = where.home?.startsWith(TENANT_PREFIX) ? `_${where.home.slice(TENANT_PREFIX.length)}` : "";
  const shard = where.shard + (modeOf(where) === "test" ? TEST_SHARD_OFFSET : 0);
  return `${prefix}_${base62(where.bucket, 3)}${base62(shard, 2)}${randomBase62(16)}${home}`;
}

/** Where an id lives, or null for an id that is not one of ours (an unknown id: 404). */
export function locate(id: string, prefix: string): Location | null {
  if (!id.startsWith(`${prefix}_`)) return null;
  const m = LOCATION.exec(id.slice(prefix.length + 1));
  if (!m) return null;
  const raw = unbase62(m[2]!);
  const test = raw >= TEST_SHARD_OFFSET;
  const shard = test ? raw - TEST_SHARD_OFFSET : raw;
  if (shard >= MAX_DATA_SHARDS) return null;
  return {
    bucket: unbase62(m[1]!),
    shard,
    ...(test && { mode: "test" as const }),
    ...(m[3] && { home: `${TENANT_PREFIX}${m[3]}` }),
  };
}

/** The mode a located id belongs to (live for an id that is not one). */
export function modeOfId(id: string): Mode {
  const prefix = id.slice(0, id.indexOf("_"));
  const where = locate(id, prefix);
  return where ? modeOf(where) : "live";
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

/** `<tenant>/<day>/<shard>` for live data (the names it always had), `<tenant>/test/<day>/<shard>` for test mode's. */
export const objectName = (tenantId: string, where: Pick<Location, "bucket" | "shard" | "mode">) =>
  modeOf(where) === "test" ? `${tenantId}/test/${where.bucket}/${where.shard}` : `${tenantId}/${where.bucket}/${where.shard}`;

/** The buckets a tenant may still hold data in, newest first: today back to the retention horizon. */
export function liveBuckets(now: number, retentionDays: number, range: { since?: Date; until?: Date } = {}): number[] {
  const newest = bucketOf(Math.min(now, range.until?.getTime() ?? now));
  const oldest = Math.max(bucketOf(now - retentionDays * BUCKET_MS), range.since ? bucketOf(range.since.getTime()) : -Infinity);
  const out: number[] = [];
  for (let b = newest; b >= oldest; b--) out.push(b);
  return out;
}
