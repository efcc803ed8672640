import { createDb } from "../db/client";
import { tenants } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import { cachedTenant } from "../tenants/cache";
import { isOperator } from "../tenants/operator";
import type { DataTenant } from "./placement";

export const dataTenantOf = (t: TenantRow): DataTenant => ({
  id: t.id,
  dataShards: t.dataShards,
  maxDataShards: t.maxDataShards,
  shardHistory: t.shardHistory,
});

/**
 * Whose shards hold an owner's deliveries: a tenant's, its own; the
 * operator's (deliveries to its endpoints live with each tenant's events),
 * every tenant's, or the one `only` names.
 */
export async function shardsHolding(env: Env, owner: TenantRow, only?: string): Promise<DataTenant[]> {
  if (!isOperator(owner.id)) return only === undefined || only === owner.id ? [dataTenantOf(owner)] : [];
  if (only !== undefined) {
    const one = await cachedTenant(env.DB, only);
    return one ? [dataTenantOf(one)] : [];
  }
  return createDb(env.DB)
    .select({ id: tenants.id, dataShards: tenants.dataShards, maxDataShards: tenants.maxDataShards, shardHistory: tenants.shardHistory })
    .from(tenants)
    .all();
}
