import type { Mode } from "../common/enums";
import { createDb } from "../db/client";
import { tenants } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import { cachedTenant } from "../tenants/cache";
import { isOperator } from "../tenants/operator";
import type { DataTenant } from "./placement";

/** A tenant's objects of one mode. */
export const dataTenantOf = (t: TenantRow, mode: Mode): DataTenant => ({
  id: t.id,
  mode,
  dataShards: t.dataShards,
  maxDataShards: t.maxDataShards,
  shardHistory: t.shardHistory,
});

/**
 * Whose shards of `mode` hold an owner's deliveries: a tenant's, its own;
 * the operator's (deliveries to its endpoints live with each tenant's
 * events), every tenant's, or the one `only` names.
 */
export async function shardsHolding(env: Env, owner: TenantRow, mode: Mode, only?: string): Promise<DataTenant[]> {
  if (!isOperator(owner.id)) return only === undefined || only === owner.id ? [dataTenantOf(owner, mode)] : [];
  if (only !== undefined) {
    const one = await cachedTenant(env.DB, only);
    return one ? [dataTenantOf(one, mode)] : [];
  }
  const rows = await createDb(env.DB)
    .select({ id: tenants.id, dataShards: tenants.dataShards, maxDataShards: tenants.maxDataShards, shardHistory: tenants.shardHistory })
    .from(tenants)
    .all();
  return rows.map((t) => ({ ...t, mode }));
}
