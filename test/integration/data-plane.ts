import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { bucketOf, locate, objectName } from "../../src/data/shard-map";
import { shardStub } from "../../src/objects";

/**
 * Test access to the data plane (events, deliveries, attempts, source
 * requests live in the tenants' DataShard objects, not in D1).
 */

/** The shard object that holds a located id (`evt_`, `dlv_`, `req_`) of `tenantId`. */
export function shardOf(tenantId: string, id: string) {
  const prefix = id.slice(0, id.indexOf("_"));
  const where = locate(id, prefix);
  if (!where) throw new Error(`${id} is not a located id`);
  return shardStub(env, objectName(tenantId, where));
}

/** Runs SQL inside the shard that holds `id`, as the object itself would. */
export async function shardSql<T = Record<string, SqlStorageValue>>(
  tenantId: string,
  id: string,
  query: string,
  ...args: SqlStorageValue[]
) {
  return runInDurableObject(shardOf(tenantId, id), (_instance, state) => state.storage.sql.exec(query, ...args).toArray() as T[]);
}

const tenantOfDeliveryId = new Map<string, string>();

/** Remembers whose shard holds a delivery (the queue helpers learn it from the messages they see). */
export function noteDeliveryTenant(deliveryId: string, tenantId: string): void {
  tenantOfDeliveryId.set(deliveryId, tenantId);
}

/** The tenant whose shard holds a delivery: from its id (an operator endpoint's), a message seen, or by asking each tenant's shard; null when none does. */
export async function findTenantOfDelivery(deliveryId: string): Promise<string | null> {
  const where = locate(deliveryId, "dlv");
  if (!where) return null;
  if (where.home) return where.home;
  const known = tenantOfDeliveryId.get(deliveryId);
  if (known) return known;
  const { results } = await env.DB.prepare("SELECT id FROM tenants").all<{ id: string }>();
  for (const { id } of results) {
    if (await shardOf(id, deliveryId).loadForAttempt(deliveryId)) {
      tenantOfDeliveryId.set(deliveryId, id);
      return id;
    }
  }
  return null;
}

export async function tenantOfDelivery(deliveryId: string): Promise<string> {
  const tenantId = await findTenantOfDelivery(deliveryId);
  if (!tenantId) throw new Error(`no tenant's shard holds ${deliveryId}`);
  return tenantId;
}

/** A delivery's stored row, as the shard keeps it (times in ms). */
export async function deliveryRow(deliveryId: string) {
  const tenantId = await tenantOfDelivery(deliveryId);
  const [row] = await shardSql<Record<string, unknown>>(tenantId, deliveryId, "SELECT * FROM deliveries WHERE id = ?", deliveryId);
  return row;
}

/** Runs a delivery's SQL (`UPDATE deliveries SET ... WHERE id = ?`, the id bound last). */
export async function updateDelivery(deliveryId: string, set: string, ...args: SqlStorageValue[]) {
  const tenantId = await tenantOfDelivery(deliveryId);
  await shardSql(tenantId, deliveryId, `UPDATE deliveries SET ${set} WHERE id = ?`, ...args, deliveryId);
}

/** Fires the alarm of the shard holding `id` now (the outbox, or retention), as the runtime would when it is due. */
export async function runShardAlarm(tenantId: string, id: string): Promise<boolean> {
  return runDurableObjectAlarm(shardOf(tenantId, id));
}

/** The data-plane objects of a tenant that a test may have written: yesterday and today, each shard it may have. */
export async function dataObjectsOf(tenantId: string): Promise<string[]> {
  const row = await env.DB.prepare("SELECT max_data_shards AS n FROM tenants WHERE id = ?").bind(tenantId).first<{ n: number }>();
  const shards = row?.n ?? 1;
  const today = bucketOf(Date.now());
  return [today - 1, today].flatMap((bucket) => Array.from({ length: shards }, (_, shard) => objectName(tenantId, { bucket, shard })));
}

const DATA_TABLES = ["events", "claims", "deliveries", "attempts", "source_requests"] as const;
export type DataTable = (typeof DATA_TABLES)[number];

/** Every row of one object, per table (none for an object never written). */
async function dumpObject(name: string): Promise<Record<string, unknown[]>> {
  return runInDurableObject(shardStub(env, name), (_instance, state) => {
    const tables = new Set(
      state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((r) => String(r.name)),
    );
    return Object.fromEntries(
      DATA_TABLES.filter((t) => tables.has(t)).map((t) => [t, state.storage.sql.exec(`SELECT * FROM ${t} ORDER BY rowid`).toArray()]),
    );
  });
}

/** Rows of a data-plane table across a tenant's objects that match `where`. */
export async function dataRows(
  tenantId: string,
  table: DataTable,
  where = "1 = 1",
  ...args: SqlStorageValue[]
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const name of await dataObjectsOf(tenantId)) {
    const rows = await runInDurableObject(shardStub(env, name), (_instance, state) => {
      const exists = state.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
      return exists ? state.storage.sql.exec(`SELECT * FROM ${table} WHERE ${where}`, ...args).toArray() : [];
    });
    out.push(...(rows as Record<string, unknown>[]));
  }
  return out;
}

export async function countDataRows(tenantId: string, table: DataTable, where = "1 = 1", ...args: SqlStorageValue[]): Promise<number> {
  return (await dataRows(tenantId, table, where, ...args)).length;
}

/** Every tenant's (and the operator's) data-plane rows, as comparable text. */
export async function dataSnapshot(): Promise<Record<string, string>> {
  const { results } = await env.DB.prepare("SELECT id FROM tenants ORDER BY id").all<{ id: string }>();
  const out: Record<string, string> = {};
  for (const tenantId of ["operator", ...results.map((r) => r.id)]) {
    for (const name of await dataObjectsOf(tenantId)) {
      const dump = await dumpObject(name);
      if (Object.keys(dump).length > 0) out[name] = JSON.stringify(dump);
    }
  }
  return out;
}
