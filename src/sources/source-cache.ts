import { createDb } from "../db/client";
import { findSourceById, type SourceRow } from "../db/sources";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Source records kept in the isolate for the intake route, so a busy URL
 * costs no D1 read per request. Changes reach other isolates within
 * SOURCE_CACHE_TTL_MS (a disabled, deleted or rotated URL stops there within
 * two seconds); the isolate that makes one drops its entry at once. `null`
 * remembers an unknown id.
 */
export const SOURCE_CACHE_TTL_MS = 2_000;
const cache = new TtlCache<SourceRow | null>(SOURCE_CACHE_TTL_MS, 10_000);

export async function cachedSource(d1: D1Database, id: string): Promise<SourceRow | null> {
  let row = cache.get(id);
  if (row === undefined) {
    row = (await findSourceById(createDb(d1), id)) ?? null;
    cache.set(id, row);
  }
  return row;
}

export function forgetSource(id: string): void {
  cache.delete(id);
}
