import type { ApiKeyRow } from "../db/keys";
import type { TenantRow } from "../db/tenants";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Credential records cached in the isolate so the hot path needs no D1 read.
 * Revocation, expiry and allowlist changes do not wait for these to expire:
 * the credential's Durable Object holds that live state. Tenant settings
 * (apiAccess, rate limits) reach other isolates within CACHE_TTL_MS; writes
 * in this isolate drop the affected entries at once.
 */
export const CACHE_TTL_MS = 10_000;

/** By SHA-256 of the key; `null` remembers an unknown key (no D1 read per guess). */
export const keyRecords = new TtlCache<{ key: ApiKeyRow; tenant: TenantRow } | null>(CACHE_TTL_MS, 10_000);
export const tenantRecords = new TtlCache<TenantRow>(CACHE_TTL_MS, 10_000);

export function forgetKey(id: string): void {
  keyRecords.deleteWhere((v) => v?.key.id === id);
}

export function forgetTenant(id: string): void {
  keyRecords.deleteWhere((v) => v?.tenant.id === id);
  tenantRecords.delete(id);
}
