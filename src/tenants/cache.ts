import { createDb } from "../db/client";
import { getTenant, type TenantRow } from "../db/tenants";
import { TtlCache } from "../lib/ttl-cache";

/**
 * Tenant records cached in the isolate: every authenticated request needs
 * its tenant's settings (API access, limits, quotas). Changes reach other
 * isolates within TENANT_CACHE_TTL_MS; the isolate that makes one drops its
 * entry at once.
 */
export const TENANT_CACHE_TTL_MS = 10_000;

const tenants = new TtlCache<TenantRow>(TENANT_CACHE_TTL_MS, 10_000);

export async function cachedTenant(d1: D1Database, id: string): Promise<TenantRow | undefined> {
  let tenant = tenants.get(id);
  if (!tenant) {
    tenant = await getTenant(createDb(d1), id);
    if (tenant) tenants.set(id, tenant);
  }
  return tenant;
}

/** Seeds the cache with a row just read (the key lookup joins its tenant). */
export function rememberTenant(tenant: TenantRow): void {
  tenants.set(tenant.id, tenant);
}

export function forgetTenant(id: string): void {
  tenants.delete(id);
}
