import { and, asc, eq, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { type Quotas, tenants } from "./schema";

export type TenantRow = typeof tenants.$inferSelect;
export type TenantPatch = Partial<Omit<TenantRow, "id" | "createdAt" | "quotas">> & { quotas?: Partial<Quotas> };

export const DEFAULT_QUOTAS: Quotas = { apiKeys: 10, oauthClients: 5, webhooks: 3, sources: 5, eventTypes: 100 };

export async function getTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
}

/** Which of `ids` are no tenant's (the list travels as one JSON parameter: D1 binds at most 100). */
export async function unknownTenantIds(db: Db, ids: string[]): Promise<Set<string>> {
  const found = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(sql`${tenants.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`)
    .all();
  const known = new Set(found.map((t) => t.id));
  return new Set(ids.filter((id) => !known.has(id)));
}

/** `search`: part of the name (any case), or the whole id. */
export async function listTenants(db: Db, limit: number, after?: Cursor, search?: string): Promise<Page<TenantRow>> {
  const matches = search ? or(sql`instr(lower(${tenants.name}), lower(${search})) > 0`, eq(tenants.id, search)) : undefined;
  const rows = await db
    .select()
    .from(tenants)
    .where(and(matches, afterCursor(tenants.createdAt, tenants.id, after)))
    .orderBy(asc(tenants.createdAt), asc(tenants.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (t) => ({ t: t.createdAt.getTime(), id: t.id }));
}

export function insertTenant(db: Db, row: TenantRow) {
  return db.insert(tenants).values(row);
}

/** `current` with `patch` applied (quotas merged), as it will be stored. */
export function patchedTenant(current: TenantRow, patch: TenantPatch, now = new Date()): TenantRow {
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TenantPatch;
  return { ...current, ...defined, quotas: { ...current.quotas, ...patch.quotas }, updatedAt: now };
}

export function updateTenant(db: Db, next: TenantRow) {
  const { id, createdAt: _createdAt, ...set } = next;
  return db.update(tenants).set(set).where(eq(tenants.id, id));
}
