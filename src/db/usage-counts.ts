import { and, desc, eq, gt, gte, inArray, lt, lte, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import { GRANULARITY_KEPT, GRANULARITY_MS, USAGE_GRANULARITIES, type UsageGranularity } from "../common/usage";
import { createDb } from "./client";
import { apiKeys, oauthClients, tenants } from "./schema";
import { usageCounts } from "./schema-usage";

/** What one isolate counted for one credential in one bucket since its last flush. */
export type UsageDelta = {
  credentialId: string;
  tenantId: string;
  mode: Mode;
  granularity: UsageGranularity;
  start: number;
  ok: number;
  clientErrors: number;
  rateLimited: number;
  serverErrors: number;
  errorsLogged: number;
};

export type UsageRow = { start: number; ok: number; clientErrors: number; rateLimited: number; serverErrors: number };

/** The oldest bucket start still kept for `granularity` at `now`. */
export const horizonOf = (granularity: UsageGranularity, now: number): number =>
  Math.floor(now / GRANULARITY_MS[granularity]) * GRANULARITY_MS[granularity] -
  (GRANULARITY_KEPT[granularity] - 1) * GRANULARITY_MS[granularity];

/**
 * Adds an isolate's deltas in one D1 batch (one upsert per credential and
 * bucket, however many requests they stand for) and, with `prune`, drops
 * buckets past their horizon.
 */
export async function addUsage(d1: D1Database, deltas: UsageDelta[], prune: boolean, now = Date.now()): Promise<void> {
  const db = createDb(d1);
  const add = (column: { name: string }) => sql`${sql.identifier(column.name)} + excluded.${sql.identifier(column.name)}`;
  const statements = deltas.map((d) =>
    db
      .insert(usageCounts)
      .values(d)
      .onConflictDoUpdate({
        target: [usageCounts.credentialId, usageCounts.granularity, usageCounts.start],
        set: {
          ok: add(usageCounts.ok),
          clientErrors: add(usageCounts.clientErrors),
          rateLimited: add(usageCounts.rateLimited),
          serverErrors: add(usageCounts.serverErrors),
          errorsLogged: add(usageCounts.errorsLogged),
        },
      }),
  );
  const pruning = prune
    ? USAGE_GRANULARITIES.map((g) =>
        db.delete(usageCounts).where(and(eq(usageCounts.granularity, g), lt(usageCounts.start, horizonOf(g, now)))),
      )
    : [];
  const all = [...statements, ...pruning];
  if (all.length > 0) await db.batch(all as [(typeof all)[number], ...(typeof all)[number][]]);
}

const sums = {
  start: usageCounts.start,
  ok: sql<number>`sum(${usageCounts.ok})`.mapWith(Number),
  clientErrors: sql<number>`sum(${usageCounts.clientErrors})`.mapWith(Number),
  rateLimited: sql<number>`sum(${usageCounts.rateLimited})`.mapWith(Number),
  serverErrors: sql<number>`sum(${usageCounts.serverErrors})`.mapWith(Number),
};

/** One credential's buckets of `granularity` within its horizon, newest first (buckets with no request are absent). */
export async function credentialUsageRows(
  d1: D1Database,
  credentialId: string,
  granularity: UsageGranularity,
  now = Date.now(),
): Promise<UsageRow[]> {
  return createDb(d1)
    .select(sums)
    .from(usageCounts)
    .where(
      and(
        eq(usageCounts.credentialId, credentialId),
        eq(usageCounts.granularity, granularity),
        gte(usageCounts.start, horizonOf(granularity, now)),
      ),
    )
    .groupBy(usageCounts.start)
    .orderBy(desc(usageCounts.start));
}

/** A tenant's buckets (every credential added up), newest first; `mode` null: both modes. */
export async function tenantUsageRows(
  d1: D1Database,
  tenantId: string,
  mode: Mode | null,
  granularity: UsageGranularity,
  now = Date.now(),
): Promise<UsageRow[]> {
  return createDb(d1)
    .select(sums)
    .from(usageCounts)
    .where(
      and(
        eq(usageCounts.tenantId, tenantId),
        mode ? eq(usageCounts.mode, mode) : undefined,
        eq(usageCounts.granularity, granularity),
        gte(usageCounts.start, horizonOf(granularity, now)),
      ),
    )
    .groupBy(usageCounts.start)
    .orderBy(desc(usageCounts.start));
}

export type TenantUsageTotal = Omit<UsageRow, "start"> & { tenantId: string; name: string | null; total: number };

/** Every tenant's requests within `granularity`'s horizon, most requests first (ties by id). */
export async function rankTenantsByUsage(
  d1: D1Database,
  granularity: UsageGranularity,
  limit: number,
  offset: number,
  now = Date.now(),
): Promise<TenantUsageTotal[]> {
  const total = sql<number>`sum(${usageCounts.ok} + ${usageCounts.clientErrors} + ${usageCounts.rateLimited} + ${usageCounts.serverErrors})`;
  const { start: _start, ...outcomes } = sums;
  return createDb(d1)
    .select({ tenantId: usageCounts.tenantId, name: tenants.name, total: total.mapWith(Number), ...outcomes })
    .from(usageCounts)
    .leftJoin(tenants, eq(tenants.id, usageCounts.tenantId))
    .where(and(eq(usageCounts.granularity, granularity), gte(usageCounts.start, horizonOf(granularity, now))))
    .groupBy(usageCounts.tenantId)
    .orderBy(desc(total), usageCounts.tenantId)
    .limit(limit)
    .offset(offset);
}

/** The names of these credentials (API keys and OAuth clients), by id; an unknown id is absent. */
export async function credentialNames(d1: D1Database, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (ids.length === 0) return out;
  const db = createDb(d1);
  // D1 binds at most 100 parameters per statement.
  const chunks = (list: string[]) => Array.from({ length: Math.ceil(list.length / 90) }, (_, i) => list.slice(i * 90, i * 90 + 90));
  const reads = [
    ...chunks(ids.filter((id) => id.startsWith("key_"))).map((part) =>
      db.select({ id: apiKeys.id, name: apiKeys.name }).from(apiKeys).where(inArray(apiKeys.id, part)),
    ),
    ...chunks(ids.filter((id) => id.startsWith("cli_"))).map((part) =>
      db.select({ id: oauthClients.id, name: oauthClients.name }).from(oauthClients).where(inArray(oauthClients.id, part)),
    ),
  ];
  for (const rows of await Promise.all(reads)) for (const row of rows) out.set(row.id, row.name);
  return out;
}

/** The UTC days (bucket starts, newest first) on which the tenant's credentials got a non-2xx answer, within `[since, until]`. */
export async function daysWithRequestErrors(
  d1: D1Database,
  tenantId: string,
  mode: Mode | null,
  since: number,
  until: number,
): Promise<number[]> {
  const rows = await createDb(d1)
    .selectDistinct({ start: usageCounts.start })
    .from(usageCounts)
    .where(
      and(
        eq(usageCounts.tenantId, tenantId),
        mode ? eq(usageCounts.mode, mode) : undefined,
        eq(usageCounts.granularity, "day"),
        gte(usageCounts.start, since),
        lte(usageCounts.start, until),
        gt(usageCounts.errorsLogged, 0),
      ),
    )
    .orderBy(desc(usageCounts.start));
  return rows.map((r) => r.start);
}
