import type { Mode } from "../common/enums";
import { auditStatement } from "../db/audit";
import { changes, createDb } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import { clientExists, getClient, insertClientUnderQuota, listClients, type OAuthClientRow, updateClient } from "../db/oauth-clients";
import { newId, randomBase62, sha256Hex } from "../lib/crypto";
import { NotFoundError, QuotaExceededError } from "../lib/errors";
import { credentialGate } from "../objects";
import { assertKnownScopes, productScopeNames } from "../operator/scopes";
import type { CredentialPolicy } from "../ratelimit/policy";
import { callerMode, type TenantOp } from "./caller";
import { applyCredentialChange, subjectOf } from "./credential-change";
import { callerLocks } from "./operator-locks";
import { assertCanHandOn } from "./restrictions";

export type NewClientInput = { name: string; scopes: string[]; expiresAt?: Date | null; ipAllowlist?: string[] | null };

export function clientPolicy(c: Pick<OAuthClientRow, "deletedAt" | "expiresAt" | "ipAllowlist">): CredentialPolicy {
  return {
    revokedAt: c.deletedAt?.getTime() ?? null,
    expiresAt: c.expiresAt?.getTime() ?? null,
    ipAllowlist: c.ipAllowlist,
  };
}

/** A client secret: 43 base62 characters (~256 bits), so SHA-256 alone stores it safely. */
async function newClientSecret(): Promise<{ secret: string; secretHash: string; secretLast4: string }> {
  const secret = `hgcs_${randomBase62(43)}`;
  return { secret, secretHash: await sha256Hex(secret), secretLast4: secret.slice(-4) };
}

/**
 * Creates an OAuth client within the tenant's `oauthClients` quota (audit
 * in the same batch) and tells its Durable Object the policy that gates its
 * tokens. The secret is returned once.
 */
export async function createOAuthClient(ctx: TenantOp, input: NewClientInput): Promise<{ row: OAuthClientRow; secret: string }> {
  const db = createDb(ctx.env.DB);
  const product = await productScopeNames(ctx.env.DB);
  assertKnownScopes(input.scopes, product);
  await assertCanHandOn(
    db,
    ctx.caller,
    { scopes: input.scopes, expiresAt: input.expiresAt ?? null, ipAllowlist: input.ipAllowlist ?? null },
    product,
  );
  const { secret, secretHash, secretLast4 } = await newClientSecret();
  const row: OAuthClientRow = {
    id: newId("cli"),
    tenantId: ctx.tenant.id,
    name: input.name,
    secretHash,
    secretLast4,
    // The creating credential's mode; its tokens carry it.
    mode: callerMode(ctx.caller) ?? "live",
    scopes: input.scopes,
    ipAllowlist: input.ipAllowlist ?? null,
    expiresAt: input.expiresAt ?? null,
    deletedAt: null,
    // A client made by a credential the operator locked is locked the same way.
    lockedBy: await callerLocks(db, ctx.caller),
    lastUsedAt: null,
    createdBy: ctx.who.actor,
    createdAt: new Date(),
  };
  const [inserted] = await db.batch([
    insertClientUnderQuota(db, row, ctx.tenant.quotas.oauthClients),
    auditStatement(
      db,
      ctx.who,
      { action: "oauth_client.created", target: row.id, details: { name: row.name, scopes: row.scopes, mode: row.mode } },
      clientExists(row.id),
    ),
  ]);
  if (changes(inserted) !== 1) {
    const noun = row.mode === "test" ? "test mode OAuth clients" : "OAuth clients";
    throw new QuotaExceededError("oauthClients", ctx.tenant.quotas.oauthClients, noun);
  }
  await credentialGate(ctx.env, row.id).setPolicy(row.id, clientPolicy(row), subjectOf(row));
  return { row, secret };
}

/** A page of the tenant's OAuth clients: the caller's mode's (the operator's `mode`, or both). */
export async function listOAuthClients(
  ctx: Pick<TenantOp, "env" | "tenant" | "caller">,
  limit: number,
  after?: Cursor,
  mode: Mode | null = callerMode(ctx.caller),
): Promise<Page<OAuthClientRow>> {
  return listClients(createDb(ctx.env.DB), ctx.tenant.id, mode, limit, after);
}

/** A live client of the tenant in the caller's mode, or 404 (another tenant's or mode's id too). */
export async function findOAuthClient(ctx: Pick<TenantOp, "env" | "tenant" | "caller">, id: string): Promise<OAuthClientRow> {
  const row = await getClient(createDb(ctx.env.DB), ctx.tenant.id, id, callerMode(ctx.caller));
  if (!row) throw new NotFoundError("OAuth client");
  return row;
}

/** Deletes the client: every token it was issued stops working at once. */
export async function deleteOAuthClient(ctx: TenantOp, id: string): Promise<void> {
  const db = createDb(ctx.env.DB);
  const row = await findOAuthClient(ctx, id);
  const deletedAt = new Date();
  await applyCredentialChange(ctx.env, db, ctx.who, {
    credentialId: id,
    policy: clientPolicy({ ...row, deletedAt }),
    statements: [updateClient(db, ctx.tenant.id, id, { deletedAt })],
    audit: { action: "oauth_client.deleted", target: id, details: { name: row.name } },
  });
}

/**
 * A new client secret, shown once; the old one stops authenticating token
 * requests at once. Tokens already issued keep working until they expire
 * (an hour at most): delete the client to end them too.
 */
export async function rotateOAuthClientSecret(ctx: TenantOp, id: string): Promise<{ row: OAuthClientRow; secret: string }> {
  const db = createDb(ctx.env.DB);
  const row = await findOAuthClient(ctx, id);
  await assertCanHandOn(db, ctx.caller, { scopes: row.scopes }, await productScopeNames(ctx.env.DB));
  const { secret, secretHash, secretLast4 } = await newClientSecret();
  await db.batch([
    updateClient(db, ctx.tenant.id, id, { secretHash, secretLast4 }),
    auditStatement(db, ctx.who, { action: "oauth_client.secret_rotated", target: id }),
  ]);
  return { row: { ...row, secretHash, secretLast4 }, secret };
}
