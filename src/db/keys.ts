import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Cursor } from "../http/pagination";
import { insertUnderQuota, type Db } from "./client";
import { apiKeys, tenants } from "./schema";
import type { TenantRow } from "./tenants";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/** A key is live until its revocation time (DELETE: now; rotation: now + grace). */
const live = (now: Date) => or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, now));

/** The key with this hash and its tenant: the one D1 read of authentication. */
export async function findKeyByHash(db: Db, hash: string): Promise<{ key: ApiKeyRow; tenant: TenantRow } | undefined> {
  const row = await db
    .select({ key: apiKeys, tenant: tenants })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.hash, hash))
    .get();
  return row ?? undefined;
}

export async function getKey(db: Db, tenantId: string, id: string, now = new Date()): Promise<ApiKeyRow | undefined> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), live(now)))
    .get();
}

export async function listKeys(db: Db, tenantId: string, limit: number, after?: Cursor, now = new Date()) {
  const position = after
    ? or(gt(apiKeys.createdAt, new Date(after.t)), and(eq(apiKeys.createdAt, new Date(after.t)), gt(apiKeys.id, after.id)))
    : undefined;
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), live(now), position))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
    .limit(limit + 1)
    .all();
}

/**
 * Inserts a key unless the tenant already has `quota` keys not revoked. A key
 * in its rotation grace period does not count, so rotating at quota works.
 */
export async function insertKeyUnderQuota(d1: D1Database, row: ApiKeyRow, quota: number): Promise<boolean> {
  return insertUnderQuota(
    d1,
    "api_keys",
    {
      id: row.id,
      tenant_id: row.tenantId,
      name: row.name,
      hash: row.hash,
      start: row.start,
      last4: row.last4,
      scopes: row.scopes,
      ip_allowlist: row.ipAllowlist,
      rate_limits: row.rateLimits,
      expires_at: row.expiresAt,
      revoked_at: row.revokedAt,
      rotated_to_id: row.rotatedToId,
      last_used_at: row.lastUsedAt,
      created_by: row.createdBy,
      created_at: row.createdAt,
    },
    "tenant_id = ? AND revoked_at IS NULL",
    [row.tenantId],
    quota,
  );
}

export async function updateKey(
  db: Db,
  tenantId: string,
  id: string,
  set: Partial<Pick<ApiKeyRow, "name" | "expiresAt" | "ipAllowlist" | "revokedAt" | "rotatedToId">>,
): Promise<void> {
  await db
    .update(apiKeys)
    .set(set)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)))
    .run();
}


/**
 * Marks `id` as rotated to `newId`, revoked from `revokedAt`, only if it has
 * not been rotated already: two concurrent rotations cannot both win.
 */
export async function claimRotation(db: Db, tenantId: string, id: string, newId: string, revokedAt: Date): Promise<boolean> {
  const result = await db
    .update(apiKeys)
    .set({ revokedAt, rotatedToId: newId })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), isNull(apiKeys.rotatedToId)))
    .run();
  return result.meta.changes === 1;
}

/** Undoes `claimRotation` when the new key could not be created. */
export async function releaseRotation(db: Db, tenantId: string, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ revokedAt: null, rotatedToId: null })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)))
    .run();
}
