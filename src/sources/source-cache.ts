import { createDb } from "../db/client";
import { findSourceById, type SourceRow } from "../db/sources";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Source records kept in the isolate for the intake route, so a busy URL
 * costs no D1 read per request. Changes reach other isolates within
 * SOURCE_CACHE_TTL_MS (a disabled, deleted or rotated URL stops there within
 * two seconds); the isolate that makes one drops its entry at once.
 *
 * An unknown id is remembered too, for the same time, so probing one costs
 * what a known source with a wrong token does (no D1 read either way). The
 * unknown ids are kept apart, in a smaller map: a flood of made-up ids
 * pushes out only other made-up ids, never the live sources.
 */
export const SOURCE_CACHE_TTL_MS = 2_000;

export class SourceCache {
  private readonly known: TtlCache<SourceRow>;
  private readonly unknown: TtlCache<true>;

  constructor(ttlMs: number, maxKnown: number, maxUnknown: number) {
    this.known = new TtlCache(ttlMs, maxKnown);
    this.unknown = new TtlCache(ttlMs, maxUnknown);
  }

  /** The source with `id` (null when none), read with `load` only when this isolate does not remember it. */
  async get(id: string, load: (id: string) => Promise<SourceRow | undefined>, now = Date.now()): Promise<SourceRow | null> {
    const hit = this.known.get(id, now);
    if (hit) return hit;
    if (this.unknown.get(id, now)) return null;
    const row = await load(id);
    if (row) this.known.set(id, row, now);
    else this.unknown.set(id, true, now);
    return row ?? null;
  }

  /** After a change to the source (or its creation): the next request reads it again. */
  forget(id: string): void {
    this.known.delete(id);
    this.unknown.delete(id);
  }
}

const shared = new SourceCache(SOURCE_CACHE_TTL_MS, 10_000, 5_000);

export function cachedSource(d1: D1Database, id: string): Promise<SourceRow | null> {
  return shared.get(id, (key) => findSourceById(createDb(d1), key));
}

export function forgetSource(id: string): void {
  shared.forget(id);
}
