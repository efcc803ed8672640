import type { ApiKeyRow } from "../db/keys";
import { RefreshAheadCache } from "../lib/refresh-ahead";
import { TtlCache } from "../lib/ttl-cache";

/**
 * API key records cached in the isolate so the hot path needs no D1 read.
 * Revocation, expiry and allowlist changes do not wait for these to expire:
 * the credential's Durable Object holds that live state. A change of scopes
 * made in another isolate applies here within CACHE_TTL_MS; writes in this
 * isolate drop the affected entries at once. A hot key's record is read
 * again in the background from half its life on (where the caller can), so
 * a warm request never waits for D1.
 */
export const CACHE_TTL_MS = 2_000;

/** By SHA-256 of the key; `null` remembers an unknown key (no D1 read per guess). */
export const keyRecords = new RefreshAheadCache<ApiKeyRow | null>(CACHE_TTL_MS / 2, CACHE_TTL_MS, 10_000);

/**
 * Keys presented lately that parsed (format and checksum), with their tenant and SHA-256, so a key
 * sent again costs neither a parse nor a digest. Keyed by the key itself: it lives only in this
 * isolate's memory, as the request that carried it did.
 */
export const keyHashes = new TtlCache<{ hash: string; tenantId: string }>(10_000, 10_000);

export function forgetKey(id: string): void {
  keyRecords.deleteWhere((v) => v?.id === id);
}
