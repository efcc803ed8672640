import type { ApiKeyRow } from "../db/keys";
import { TtlCache } from "../lib/ttl-cache";

/**
 * API key records cached in the isolate so the hot path needs no D1 read.
 * Revocation, expiry and allowlist changes do not wait for these to expire:
 * the credential's Durable Object holds that live state. Writes in this
 * isolate drop the affected entries at once.
 */
export const CACHE_TTL_MS = 10_000;

/** By SHA-256 of the key; `null` remembers an unknown key (no D1 read per guess). */
export const keyRecords = new TtlCache<ApiKeyRow | null>(CACHE_TTL_MS, 10_000);

export function forgetKey(id: string): void {
  keyRecords.deleteWhere((v) => v?.id === id);
}
