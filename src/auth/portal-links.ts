import { lt, sql } from "drizzle-orm";
import { WILDCARD_SCOPES } from "../common/scopes";
import type { Config } from "../config";
import type { AuditActor } from "../db/audit";
import { auditStatement } from "../db/audit";
import { changes, createDb } from "../db/client";
import { claimedAt, claimPortalLink, findPortalLinkByHash, insertPortalLink, type PortalLinkRow } from "../db/portal-links";
import { portalLinks } from "../db/schema";
import { newId, randomBase62, sha256Hex } from "../lib/crypto";
import { DomainError, ForbiddenError, ValidationError } from "../lib/errors";
import { assertKnownScopes, productScopeNames } from "../operator/scopes";
import { cachedTenant } from "../tenants/cache";
import type { TenantOp } from "./caller";
import { type SessionGrant, startSession } from "./dashboard-sessions";
import { operatorPortalCredential } from "./operator-portal";
import { assertCanGrant } from "./scopes";
import { SESSION_MAX_SECONDS } from "./session-tokens";

export const PORTAL_LINK_DEFAULT_SECONDS = 3600;
export const PORTAL_LINK_MIN_SECONDS = 300;
export const PORTAL_LINK_MAX_SECONDS = 86_400;
/** What a used, expired or unknown link answers, in the page's words. */
export const PORTAL_LINK_GONE = "This link has expired or was already used";

// Expired links are dropped a few at a time as new ones are made.
const PURGE_AFTER_MS = 86_400_000;
const PURGE_BATCH = 100;

export type NewPortalLink = { token: string; tenantId: string; expiresAt: Date; scopes: string[] };

/**
 * A one-time link into the embeddable portal. A tenant credential's link:
 * `scopes` (default: the caller's own) must be a subset of the caller's
 * (403), and its session acts as the calling credential. The operator's
 * link (made from the operator's backend, holding no tenant key): `scopes`
 * default to every scope a tenant credential can hold, and its session acts
 * as the tenant's operator-portal credential. `readOnly` keeps only the
 * `:read` scopes. The link must be opened within `expiresInSeconds`; its
 * session lasts as long (8 h at the most). The token exists nowhere after
 * this call but in the answer.
 */
export async function createPortalLink(
  op: TenantOp,
  input: { scopes?: string[]; expiresInSeconds?: number; readOnly?: boolean },
): Promise<NewPortalLink> {
  const product = await productScopeNames(op.env.DB);
  let scopes: string[];
  let createdBy: string;
  if ("principal" in op.caller) {
    const p = op.caller.principal;
    if (p.session?.kind === "portal") {
      throw new ForbiddenError("credential_type_not_allowed", "A portal session cannot make portal links");
    }
    scopes = input.scopes ?? p.scopes;
    assertKnownScopes(scopes, product);
    assertCanGrant(p.scopes, scopes, product);
    createdBy = p.credentialId;
  } else {
    scopes = input.scopes ?? [...WILDCARD_SCOPES];
    assertKnownScopes(scopes, product);
    createdBy = operatorPortalCredential(op.tenant.id);
  }
  if (input.readOnly) {
    scopes = scopes.filter((s) => s.endsWith(":read"));
    if (scopes.length === 0)
      throw new ValidationError([{ path: "scopes", message: "readOnly keeps only :read scopes, and none was asked for" }]);
  }
  const seconds = input.expiresInSeconds ?? PORTAL_LINK_DEFAULT_SECONDS;
  const now = new Date();
  const token = randomBase62(43);
  const row: PortalLinkRow = {
    id: newId("prt"),
    tenantId: op.tenant.id,
    tokenHash: await sha256Hex(token),
    scopes,
    sessionSeconds: Math.min(seconds, SESSION_MAX_SECONDS),
    expiresAt: new Date(now.getTime() + seconds * 1000),
    usedAt: null,
    createdBy,
    createdAt: now,
  };
  const db = createDb(op.env.DB);
  await db.batch([
    insertPortalLink(db, row),
    auditStatement(db, op.who, {
      action: "principal" in op.caller ? "portal_link.created" : "portal_session.created",
      target: row.id,
      details: { scopes, expiresAt: row.expiresAt.toISOString() },
    }),
    db
      .delete(portalLinks)
      .where(
        sql`${portalLinks.id} IN (SELECT id FROM ${portalLinks} WHERE ${lt(portalLinks.expiresAt, new Date(now.getTime() - PURGE_AFTER_MS))} LIMIT ${PURGE_BATCH})`,
      ),
  ]);
  return { token, tenantId: row.tenantId, expiresAt: row.expiresAt, scopes };
}

/**
 * Opens a portal link: marks it used (one conditional update, so it works
 * once however many open it at the same time) and starts its session.
 * Unknown, expired, used, or made by a credential that is no longer live:
 * the same 410.
 */
export async function redeemPortalLink(
  env: Env,
  config: Config,
  token: string,
  ip: string | null,
  requestId: string,
): Promise<SessionGrant> {
  const gone = new DomainError("portal_link_expired", PORTAL_LINK_GONE);
  const db = createDb(env.DB);
  const link = await findPortalLinkByHash(db, await sha256Hex(token));
  if (!link) throw gone;
  const tenant = await cachedTenant(env.DB, link.tenantId);
  if (!tenant) throw gone;
  const now = new Date();
  const who: AuditActor = { tenantId: tenant.id, actor: link.createdBy, ip, requestId };
  const [claimed] = await db.batch([
    claimPortalLink(db, link.id, now),
    auditStatement(db, who, { action: "portal_link.opened", target: link.id }, claimedAt(link.id, now)),
  ]);
  if (changes(claimed) !== 1) throw gone;
  const grant = await startSession(env, config, who, {
    tenant,
    credentialId: link.createdBy,
    scopes: link.scopes,
    kind: "portal",
    seconds: link.sessionSeconds,
    ip,
  });
  if (!grant) throw gone;
  return grant;
}
