import { and, asc, eq, gt, or } from "drizzle-orm";
import type { Cursor } from "../http/pagination";
import type { Db } from "./client";
import { tenants, type Quotas, type RateLimits } from "./schema";

export type TenantRow = typeof tenants.$inferSelect;

export const DEFAULT_QUOTAS: Quotas = { apiKeys: 10, oauthClients: 5, webhooks: 3, sources: 5, eventTypes: 100 };

export async function getTenant(db: Db, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
}

export async function listTenants(db: Db, limit: number, after?: Cursor): Promise<TenantRow[]> {
  const where = after
    ? or(gt(tenants.createdAt, new Date(after.t)), and(eq(tenants.createdAt, new Date(after.t)), gt(tenants.id, after.id)))
    : undefined;
  return db.select().from(tenants).where(where).orderBy(asc(tenants.createdAt), asc(tenants.id)).limit(limit + 1).all();
}

export async function insertTenant(db: Db, row: typeof tenants.$inferInsert): Promise<void> {
  await db.insert(tenants).values(row).run();
}

export type TenantPatch = {
  name?: string;
  quotas?: Partial<Quotas>;
  apiAccess?: boolean;
  rateLimits?: RateLimits | null;
  retrySchedule?: number[] | null;
  breakerThreshold?: number | null;
};

export async function updateTenant(db: Db, current: TenantRow, patch: TenantPatch): Promise<TenantRow> {
  const next: TenantRow = {
    ...current,
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.quotas !== undefined && { quotas: { ...current.quotas, ...patch.quotas } }),
    ...(patch.apiAccess !== undefined && { apiAccess: patch.apiAccess }),
    ...(patch.rateLimits !== undefined && { rateLimits: patch.rateLimits }),
    ...(patch.retrySchedule !== undefined && { retrySchedule: patch.retrySchedule }),
    ...(patch.breakerThreshold !== undefined && { breakerThreshold: patch.breakerThreshold }),
    updatedAt: new Date(),
  };
  await db
    .update(tenants)
    .set({
      name: next.name,
      quotas: next.quotas,
      apiAccess: next.apiAccess,
      rateLimits: next.rateLimits,
      retrySchedule: next.retrySchedule,
      breakerThreshold: next.breakerThreshold,
      updatedAt: next.updatedAt,
    })
    .where(eq(tenants.id, current.id))
    .run();
  return next;
}
