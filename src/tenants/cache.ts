import { createDb } from "../db/client";
import { getTenant, type TenantRow } from "../db/tenants";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Tenant records cached in the isolate: every authenticated request needs
 * its tenant's settings (API access, limits, quotas), and every attempt its
 * retry schedule and breaker threshold. Changes reach other isolates within
 * TENANT_CACHE_TTL_MS, counted from the start of the read; the isolate that
 * makes one drops its entry at once (and keeps no row read meanwhile).
 */
export const TENANT_CACHE_TTL_MS = 2_000;

const tenants = new TtlCache<TenantRow>(TENANT_CACHE_TTL_MS, 10_000);
let changesMade = 0;

export async function cachedTenant(d1: D1Database, id: string): Promise<TenantRow | undefined> {
  const cached = tenants.get(id);
  if (cached) return cached;
  const readAt = Date.now();
  const before = changesMade;
  const tenant = await getTenant(createDb(d1), id);
  if (tenant && changesMade === before) tenants.set(id, tenant, readAt);
  return tenant;
}

/** Seeds the cache with a row just read (the key lookup joins its tenant). */
export function rememberTenant(tenant: TenantRow): void {
  tenants.set(tenant.id, tenant);
}

export function forgetTenant(id: string): void {
  changesMade++;
  tenants.delete(id);
}
