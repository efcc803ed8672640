import { and, asc, eq, gt, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Mode } from "../common/enums";
import type { Db } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import type { ApiKeyRow } from "./keys";
import type { OAuthClientRow } from "./oauth-clients";
import { apiKeys, oauthClients } from "./schema";

export const CREDENTIAL_STATUSES = ["active", "revoked", "expired", "all"] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

/** How support finds a credential: its state, part of its name (any case), its last 4 characters, its mode. */
export type CredentialSearch = { status: CredentialStatus; name?: string; last4?: string; mode?: Mode };

function stateIs(status: CredentialStatus, ended: SQLiteColumn, expiresAt: SQLiteColumn, now: Date): SQL | undefined {
  const revoked = and(isNotNull(ended), lte(ended, now));
  const notRevoked = or(isNull(ended), gt(ended, now));
  const expired = and(isNotNull(expiresAt), lte(expiresAt, now));
  if (status === "revoked") return revoked;
  if (status === "expired") return and(notRevoked, expired);
  if (status === "active") return and(notRevoked, or(isNull(expiresAt), gt(expiresAt, now)));
  return undefined;
}

const nameHas = (column: SQLiteColumn, part?: string) => (part ? sql`instr(lower(${column}), lower(${part})) > 0` : undefined);

/** A page of a tenant's keys in any state (revoked and expired too), oldest first. */
export async function searchKeys(
  db: Db,
  tenantId: string,
  search: CredentialSearch,
  limit: number,
  after?: Cursor,
  now = new Date(),
): Promise<Page<ApiKeyRow>> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.tenantId, tenantId),
        stateIs(search.status, apiKeys.revokedAt, apiKeys.expiresAt, now),
        nameHas(apiKeys.name, search.name),
        search.last4 ? eq(apiKeys.last4, search.last4) : undefined,
        search.mode ? eq(apiKeys.mode, search.mode) : undefined,
        afterCursor(apiKeys.createdAt, apiKeys.id, after),
      ),
    )
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (k) => ({ t: k.createdAt.getTime(), id: k.id }));
}

/** A page of a tenant's OAuth clients in any state (deleted ones are `revoked`), oldest first. */
export async function searchClients(
  db: Db,
  tenantId: string,
  search: CredentialSearch,
  limit: number,
  after?: Cursor,
  now = new Date(),
): Promise<Page<OAuthClientRow>> {
  const rows = await db
    .select()
    .from(oauthClients)
    .where(
      and(
        eq(oauthClients.tenantId, tenantId),
        stateIs(search.status, oauthClients.deletedAt, oauthClients.expiresAt, now),
        nameHas(oauthClients.name, search.name),
        search.last4 ? eq(oauthClients.secretLast4, search.last4) : undefined,
        search.mode ? eq(oauthClients.mode, search.mode) : undefined,
        afterCursor(oauthClients.createdAt, oauthClients.id, after),
      ),
    )
    .orderBy(asc(oauthClients.createdAt), asc(oauthClients.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.createdAt.getTime(), id: r.id }));
}

/** One of a tenant's keys, whatever its state. */
export async function keyInAnyState(db: Db, tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id)))
    .get();
}

/** One of a tenant's OAuth clients, whatever its state. */
export async function clientInAnyState(db: Db, tenantId: string, id: string): Promise<OAuthClientRow | undefined> {
  return db
    .select()
    .from(oauthClients)
    .where(and(eq(oauthClients.tenantId, tenantId), eq(oauthClients.id, id)))
    .get();
}
