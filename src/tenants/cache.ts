import { createDb } from "../db/client";
import { getTenant, type TenantRow } from "../db/tenants";
import { type Background, RefreshAheadCache } from "../lib/refresh-ahead";

/**
 * Tenant records cached in the isolate: every authenticated request needs
 * its tenant's settings (API access, limits, quotas), and every attempt its
 * retry schedule and breaker threshold. Changes reach other isolates within
 * TENANT_CACHE_TTL_MS, counted from the start of the read; the isolate that
 * makes one drops its entry at once (and keeps no row read meanwhile).
 * Callers on a hot path (the gateway, the verify API) pass `background`, and
 * a hot tenant is then read again ahead of time, never while they wait.
 */
export const TENANT_CACHE_TTL_MS = 2_000;
const TENANT_REFRESH_MS = 1_000;

const tenants = new RefreshAheadCache<TenantRow | undefined>(TENANT_REFRESH_MS, TENANT_CACHE_TTL_MS, 10_000);

export async function cachedTenant(d1: D1Database, id: string, background?: Background): Promise<TenantRow | undefined> {
  return tenants.load(id, () => getTenant(createDb(d1), id), background);
}

/** Seeds the cache with a row just read (the key lookup joins its tenant). */
export function rememberTenant(tenant: TenantRow, readAt = Date.now()): void {
  tenants.set(tenant.id, tenant, readAt);
}

export function forgetTenant(id: string): void {
  tenants.delete(id);
}
