import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Cursor } from "../http/pagination";
import { insertUnderQuota, type Db } from "./client";
import { oauthClients } from "./schema";

export type OAuthClientRow = typeof oauthClients.$inferSelect;

export async function getClient(db: Db, tenantId: string, id: string): Promise<OAuthClientRow | undefined> {
  return db
    .select()
    .from(oauthClients)
    .where(and(eq(oauthClients.tenantId, tenantId), eq(oauthClients.id, id), isNull(oauthClients.deletedAt)))
    .get();
}

/** By client id alone, for the token endpoint (which learns the tenant from the client). */
export async function findClient(db: Db, id: string): Promise<OAuthClientRow | undefined> {
  return db.select().from(oauthClients).where(eq(oauthClients.id, id)).get();
}

export async function listClients(db: Db, tenantId: string, limit: number, after?: Cursor) {
  const position = after
    ? or(
        gt(oauthClients.createdAt, new Date(after.t)),
        and(eq(oauthClients.createdAt, new Date(after.t)), gt(oauthClients.id, after.id)),
      )
    : undefined;
  return db
    .select()
    .from(oauthClients)
    .where(and(eq(oauthClients.tenantId, tenantId), isNull(oauthClients.deletedAt), position))
    .orderBy(asc(oauthClients.createdAt), asc(oauthClients.id))
    .limit(limit + 1)
    .all();
}

export async function insertClientUnderQuota(d1: D1Database, row: OAuthClientRow, quota: number): Promise<boolean> {
  return insertUnderQuota(
    d1,
    "oauth_clients",
    {
      id: row.id,
      tenant_id: row.tenantId,
      name: row.name,
      secret_hash: row.secretHash,
      secret_last4: row.secretLast4,
      scopes: row.scopes,
      ip_allowlist: row.ipAllowlist,
      expires_at: row.expiresAt,
      deleted_at: null,
      last_used_at: null,
      created_by: row.createdBy,
      created_at: row.createdAt,
    },
    "tenant_id = ? AND deleted_at IS NULL",
    [row.tenantId],
    quota,
  );
}

export async function markClientDeleted(db: Db, tenantId: string, id: string, at: Date): Promise<void> {
  await db
    .update(oauthClients)
    .set({ deletedAt: at })
    .where(and(eq(oauthClients.tenantId, tenantId), eq(oauthClients.id, id)))
    .run();
}
