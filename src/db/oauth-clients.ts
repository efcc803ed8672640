import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import { type Db, insertUnderQuota } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { oauthClients } from "./schema";

export type OAuthClientRow = typeof oauthClients.$inferSelect;

const ofTenant = (tenantId: string, id: string) => and(eq(oauthClients.tenantId, tenantId), eq(oauthClients.id, id));
/** Only `mode`'s clients; `null`: both modes (the operator's view). */
const inMode = (mode: Mode | null) => (mode === null ? undefined : eq(oauthClients.mode, mode));

export async function getClient(db: Db, tenantId: string, id: string, mode: Mode | null = null): Promise<OAuthClientRow | undefined> {
  return db
    .select()
    .from(oauthClients)
    .where(and(ofTenant(tenantId, id), inMode(mode), isNull(oauthClients.deletedAt)))
    .get();
}

/** By client id alone, for the token endpoint (which learns the tenant from the client). */
export async function findClient(db: Db, id: string): Promise<OAuthClientRow | undefined> {
  return db.select().from(oauthClients).where(eq(oauthClients.id, id)).get();
}

export async function listClients(
  db: Db,
  tenantId: string,
  mode: Mode | null,
  limit: number,
  after?: Cursor,
): Promise<Page<OAuthClientRow>> {
  const rows = await db
    .select()
    .from(oauthClients)
    .where(
      and(
        eq(oauthClients.tenantId, tenantId),
        inMode(mode),
        isNull(oauthClients.deletedAt),
        afterCursor(oauthClients.createdAt, oauthClients.id, after),
      ),
    )
    .orderBy(asc(oauthClients.createdAt), asc(oauthClients.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.createdAt.getTime(), id: r.id }));
}

/** Inserts a client unless the tenant already has `quota` of its mode (each mode has its own quota, the same number). */
export function insertClientUnderQuota(db: Db, row: OAuthClientRow, quota: number) {
  const counted = and(eq(oauthClients.tenantId, row.tenantId), eq(oauthClients.mode, row.mode), isNull(oauthClients.deletedAt));
  return insertUnderQuota(db, oauthClients, row, counted, quota);
}

export const clientExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${oauthClients} WHERE ${eq(oauthClients.id, id)})`;

export function updateClient(
  db: Db,
  tenantId: string,
  id: string,
  set: Partial<Pick<OAuthClientRow, "deletedAt" | "secretHash" | "secretLast4" | "ipAllowlist" | "expiresAt" | "lockedBy">>,
) {
  return db.update(oauthClients).set(set).where(ofTenant(tenantId, id));
}
