import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import { type Db, insertUnderQuota } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { apiKeys, tenants } from "./schema";
import type { TenantRow } from "./tenants";

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ApiKeyPatch = Partial<Pick<ApiKeyRow, "name" | "expiresAt" | "ipAllowlist" | "revokedAt" | "rotatedToId" | "lockedBy">>;

/** A key is live until its revocation time (DELETE: now; rotation: now + grace). */
const live = (now: Date) => or(isNull(apiKeys.revokedAt), gt(apiKeys.revokedAt, now));
const ofTenant = (tenantId: string, id: string) => and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id));
/** Only `mode`'s keys; `null`: both modes (the operator's view). */
const inMode = (mode: Mode | null) => (mode === null ? undefined : eq(apiKeys.mode, mode));

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

export async function getKey(
  db: Db,
  tenantId: string,
  id: string,
  mode: Mode | null = null,
  now = new Date(),
): Promise<ApiKeyRow | undefined> {
  return db
    .select()
    .from(apiKeys)
    .where(and(ofTenant(tenantId, id), inMode(mode), live(now)))
    .get();
}

export async function listKeys(
  db: Db,
  tenantId: string,
  mode: Mode | null,
  limit: number,
  after?: Cursor,
  now = new Date(),
): Promise<Page<ApiKeyRow>> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), inMode(mode), live(now), afterCursor(apiKeys.createdAt, apiKeys.id, after)))
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (k) => ({ t: k.createdAt.getTime(), id: k.id }));
}

/**
 * Inserts a key unless the tenant already has `quota` keys of its mode not
 * revoked (each mode has its own quota, the same number). A key in its
 * rotation grace period does not count, so rotating at quota works; a chain
 * of rotations keeps at most one key in grace (see `rotateApiKey`).
 */
export function insertKeyUnderQuota(db: Db, row: ApiKeyRow, quota: number) {
  const counted = and(eq(apiKeys.tenantId, row.tenantId), eq(apiKeys.mode, row.mode), isNull(apiKeys.revokedAt));
  return insertUnderQuota(db, apiKeys, row, counted, quota);
}

/** The key `id` exists: the condition for an audit row written in the same batch as its insert. */
export const keyExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${apiKeys} WHERE ${eq(apiKeys.id, id)})`;

export function updateKey(db: Db, tenantId: string, id: string, set: ApiKeyPatch) {
  return db.update(apiKeys).set(set).where(ofTenant(tenantId, id));
}

/**
 * Marks `id` as rotated to `newId`, revoked from `revokedAt`, only if it has
 * not been rotated already: two concurrent rotations cannot both win.
 */
export function claimRotation(db: Db, tenantId: string, id: string, newId: string, revokedAt: Date) {
  return db
    .update(apiKeys)
    .set({ revokedAt, rotatedToId: newId })
    .where(and(ofTenant(tenantId, id), isNull(apiKeys.rotatedToId)));
}

/** Undoes `claimRotation` when the new key could not be created. */
export function releaseRotation(db: Db, tenantId: string, id: string) {
  return db.update(apiKeys).set({ revokedAt: null, rotatedToId: null }).where(ofTenant(tenantId, id));
}

/**
 * The key that was rotated to `id` and is still in its grace period, if
 * any: rotating `id` ends that grace at once (one key in grace per chain).
 */
export async function predecessorInGrace(db: Db, tenantId: string, id: string, now = new Date()): Promise<ApiKeyRow | undefined> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.rotatedToId, id), gt(apiKeys.revokedAt, now)))
    .get();
}
