import { createDb } from "../db/client";
import { type CredentialSearch, clientInAnyState, keyInAnyState, searchClients, searchKeys } from "../db/credential-search";
import type { Cursor, Page } from "../db/cursor";
import type { ApiKeyRow } from "../db/keys";
import { updateKey } from "../db/keys";
import { type OAuthClientRow, updateClient } from "../db/oauth-clients";
import { NotFoundError } from "../lib/errors";
import { applyKeyChange, findApiKey } from "./api-keys";
import type { TenantOp } from "./caller";
import { applyCredentialChange, subjectOf } from "./credential-change";
import { clientPolicy, findOAuthClient } from "./oauth-clients";
import { LOCKABLE, locksAfter } from "./operator-locks";

/** What the operator sets on a tenant's credential: each field given is locked at its value (null clears and unlocks it). */
export type OperatorLock = { ipAllowlist?: string[] | null; expiresAt?: Date | null };

/** A credential's state as support sees it: revoked (or deleted), expired, else active (a key in its rotation grace too). */
export function credentialStatus(row: { ended: Date | null; expiresAt: Date | null }, now = new Date()): "active" | "revoked" | "expired" {
  if (row.ended && row.ended <= now) return "revoked";
  if (row.expiresAt && row.expiresAt <= now) return "expired";
  return "active";
}

type Scope = Pick<TenantOp, "env" | "tenant">;

/** A page of the tenant's keys in any state, found by state, part of the name and last 4 characters. */
export async function searchTenantKeys(op: Scope, search: CredentialSearch, limit: number, after?: Cursor): Promise<Page<ApiKeyRow>> {
  return searchKeys(createDb(op.env.DB), op.tenant.id, search, limit, after);
}

/** One of the tenant's keys in any state, or 404 (another tenant's id too). */
export async function tenantKey(op: Scope, id: string): Promise<ApiKeyRow> {
  const key = await keyInAnyState(createDb(op.env.DB), op.tenant.id, id);
  if (!key) throw new NotFoundError("API key");
  return key;
}

/** A page of the tenant's OAuth clients in any state. */
export async function searchTenantClients(
  op: Scope,
  search: CredentialSearch,
  limit: number,
  after?: Cursor,
): Promise<Page<OAuthClientRow>> {
  return searchClients(createDb(op.env.DB), op.tenant.id, search, limit, after);
}

/** One of the tenant's OAuth clients in any state, or 404. */
export async function tenantClient(op: Scope, id: string): Promise<OAuthClientRow> {
  const row = await clientInAnyState(createDb(op.env.DB), op.tenant.id, id);
  if (!row) throw new NotFoundError("OAuth client");
  return row;
}

const changed = (lock: OperatorLock) => LOCKABLE.filter((f) => lock[f] !== undefined);

/** The operator restricts a live key and locks what it set: its object is told first, as every key change. */
export async function lockApiKey(op: TenantOp, id: string, lock: OperatorLock): Promise<ApiKeyRow> {
  const key = await findApiKey(op, id);
  const fields = changed(lock);
  if (fields.length === 0) return key;
  const set = { ...Object.fromEntries(fields.map((f) => [f, lock[f]])), lockedBy: locksAfter(key.lockedBy, lock) };
  const next = { ...key, ...set };
  const db = createDb(op.env.DB);
  await applyKeyChange(op, db, next, [updateKey(db, op.tenant.id, id, set)], {
    action: "key.locked",
    target: id,
    details: { fields, lockedBy: next.lockedBy ?? {} },
  });
  return next;
}

/** The same for a live OAuth client: its tokens are held to the new restrictions at once. */
export async function lockOAuthClient(op: TenantOp, id: string, lock: OperatorLock): Promise<OAuthClientRow> {
  const row = await findOAuthClient(op, id);
  const fields = changed(lock);
  if (fields.length === 0) return row;
  const set = { ...Object.fromEntries(fields.map((f) => [f, lock[f]])), lockedBy: locksAfter(row.lockedBy, lock) };
  const next = { ...row, ...set };
  const db = createDb(op.env.DB);
  await applyCredentialChange(op.env, db, op.who, {
    credentialId: id,
    policy: clientPolicy(next),
    subject: subjectOf(next),
    statements: [updateClient(db, op.tenant.id, id, set)],
    audit: { action: "oauth_client.locked", target: id, details: { fields, lockedBy: next.lockedBy ?? {} } },
  });
  return next;
}
