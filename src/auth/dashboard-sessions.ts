import { MODES, type Mode } from "../common/enums";
import type { Config } from "../config";
import { type AuditActor, auditStatement } from "../db/audit";
import { createDb, type Db } from "../db/client";
import { getKey } from "../db/keys";
import { getClient } from "../db/oauth-clients";
import type { RateLimits } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import { newId } from "../lib/crypto";
import { AuthenticationError, ForbiddenError } from "../lib/errors";
import { credentialGate } from "../objects";
import type { CredentialPolicy } from "../ratelimit/policy";
import { cachedTenant } from "../tenants/cache";
import { keyPolicy } from "./api-keys";
import type { TenantOp } from "./caller";
import { clientPolicy } from "./oauth-clients";
import { isOperatorPortalCredential, OPERATOR_PORTAL_POLICY, operatorPortalCredential } from "./operator-portal";
import type { DashboardSession, Identified, Principal } from "./principal";
import { SESSION_MAX_SECONDS, sessionMode, signSessionToken, verifySessionToken } from "./session-tokens";

/** What starting a session answers: the bearer token the page keeps, and who it acts as. */
export type SessionGrant = {
  token: string;
  sessionId: string;
  kind: DashboardSession["kind"];
  expiresAt: Date;
  tenantId: string;
  credentialId: string;
  scopes: string[];
  mode: Mode;
  /** The modes this session may switch to: both for a live credential's, test only for a test one's. */
  modes: Mode[];
};

/**
 * The credential a session acts as, as D1 has it now; null once it is
 * revoked, deleted or unknown. `mode`: the credential's own (the operator's
 * portal credential is live: it may open either mode).
 */
type Parent = { policy: CredentialPolicy; rateLimits: RateLimits | null; endsAt: number | null; mode: Mode };

async function parentOf(db: Db, tenantId: string, credentialId: string): Promise<Parent | null> {
  if (isOperatorPortalCredential(credentialId)) {
    if (credentialId !== operatorPortalCredential(tenantId)) return null;
    return { policy: OPERATOR_PORTAL_POLICY, rateLimits: null, endsAt: null, mode: "live" };
  }
  if (credentialId.startsWith("key_")) {
    const key = await getKey(db, tenantId, credentialId);
    if (!key) return null;
    const policy = keyPolicy(key);
    return { policy, rateLimits: key.rateLimits, endsAt: earliest(policy.expiresAt, policy.revokedAt), mode: key.mode };
  }
  const client = await getClient(db, tenantId, credentialId);
  if (!client || client.deletedAt) return null;
  const policy = clientPolicy(client);
  return { policy, rateLimits: null, endsAt: policy.expiresAt, mode: client.mode };
}

/**
 * Starts a session acting as `credentialId` with `scopes`, for at most
 * `seconds` (and never past the credential's own expiry or rotation grace),
 * registered live in the credential's Durable Object. Null when the
 * credential is no longer live. `mode` (default: the credential's): a
 * session of a live credential may view either mode, of a test one only
 * test (403).
 */
export async function startSession(
  env: Env,
  config: Config,
  who: AuditActor,
  input: {
    tenant: TenantRow;
    credentialId: string;
    scopes: string[];
    kind: DashboardSession["kind"];
    seconds: number;
    ip: string | null;
    mode?: Mode;
  },
): Promise<SessionGrant | null> {
  const db = createDb(env.DB);
  const parent = await parentOf(db, input.tenant.id, input.credentialId);
  if (!parent) return null;
  const mode = input.mode ?? parent.mode;
  if (mode === "live" && parent.mode === "test") {
    throw new ForbiddenError("mode_escalation", "A session of a test mode credential can view test mode only", { field: "mode" });
  }
  const now = Date.now();
  const expiresAt = earliest(now + Math.min(input.seconds, SESSION_MAX_SECONDS) * 1000, parent.endsAt)!;
  const sessionId = newId("ses");
  const verdict = await credentialGate(env, input.credentialId).startSession(
    input.credentialId,
    parent.policy,
    { id: sessionId, expiresAt },
    input.ip,
  );
  if (verdict !== "ok") return null;
  const token = await signSessionToken(config.tokenSigningKey, {
    credentialId: input.credentialId,
    tenantId: input.tenant.id,
    sessionId,
    kind: input.kind,
    scopes: input.scopes,
    rateLimits: parent.rateLimits,
    mode,
    expiresAt,
    now,
  });
  await auditStatement(db, who, {
    action: "dashboard.session_started",
    target: sessionId,
    details: { kind: input.kind, scopes: input.scopes, mode, expiresAt: new Date(expiresAt).toISOString() },
  }).run();
  return {
    token,
    sessionId,
    kind: input.kind,
    expiresAt: new Date(expiresAt),
    tenantId: input.tenant.id,
    credentialId: input.credentialId,
    scopes: input.scopes,
    mode,
    modes: parent.mode === "live" ? [...MODES] : ["test"],
  };
}

/**
 * Sign-in: exchanges the API key of this request for a dashboard session
 * with the key's scopes, for 8 h. Only a key signs in (an OAuth token
 * already is a short-lived credential, and a session may not extend itself).
 */
export async function signIn(op: TenantOp, mode?: Mode): Promise<SessionGrant> {
  const p = callerPrincipal(op);
  if (p.credentialType !== "api_key" || p.session) {
    throw new ForbiddenError("credential_type_not_allowed", "Sign in to the dashboard with an API key");
  }
  const grant = await startSession(op.env, op.config, op.who, {
    tenant: op.tenant,
    credentialId: p.credentialId,
    scopes: p.scopes,
    kind: "dashboard",
    seconds: SESSION_MAX_SECONDS,
    ip: p.ip,
    mode,
  });
  if (!grant) throw new AuthenticationError("credential_revoked", "The API key has been revoked");
  return grant;
}

/**
 * The dashboard's "Test mode" switch: a new session of the same credential
 * and scopes viewing `mode`, ending when the calling one would have (a
 * switch never extends a session); the calling session ends now. A session
 * of a test credential may not switch to live (403).
 */
export async function switchSessionMode(op: TenantOp, mode: Mode): Promise<SessionGrant> {
  const p = callerPrincipal(op);
  if (!p.session)
    throw new ForbiddenError("credential_type_not_allowed", "Only a dashboard session switches modes; use a key of that mode");
  const seconds = Math.floor((p.session.expiresAt - Date.now()) / 1000);
  const grant =
    seconds > 0
      ? await startSession(op.env, op.config, op.who, {
          tenant: op.tenant,
          credentialId: p.credentialId,
          scopes: p.scopes,
          kind: p.session.kind,
          seconds,
          ip: p.ip,
          mode,
        })
      : null;
  if (!grant) throw new AuthenticationError("session_ended", "This dashboard session has ended; sign in again");
  await credentialGate(op.env, p.credentialId).endSession(p.session.id);
  return grant;
}

/** Sign-out: the session of this request ends now, in every isolate (its credential's object forgets it). */
export async function signOut(op: TenantOp): Promise<void> {
  const p = callerPrincipal(op);
  if (!p.session) throw new ForbiddenError("credential_type_not_allowed", "Only a dashboard session can sign out; revoke a key instead");
  await credentialGate(op.env, p.credentialId).endSession(p.session.id);
  await auditStatement(createDb(op.env.DB), op.who, {
    action: "dashboard.session_ended",
    target: p.session.id,
    details: { kind: p.session.kind },
  }).run();
}

/**
 * The principal of a session token: checked at the edge (signature, claims,
 * expiry) with no D1 read but the cached tenant. Its live state is left to
 * the credential's object, which `admit` asks with the session id.
 */
export async function identifySession(env: Env, config: Config, token: string, ip: string | null): Promise<Identified> {
  const check = await verifySessionToken(config.tokenSigningKey, token);
  if (!check.ok) {
    if (check.reason === "expired") throw new AuthenticationError("credential_expired", "The dashboard session has expired; sign in again");
    throw new AuthenticationError(
      "invalid_credential",
      "The session token is not valid",
      check.reason === "malformed" ? "malformed" : "unknown",
    );
  }
  const { claims } = check;
  const tenant = await cachedTenant(env.DB, claims.ten);
  if (!tenant) throw new AuthenticationError("invalid_credential", "The session token is not valid");
  const principal: Principal = {
    tenant,
    credentialId: claims.sub,
    credentialType: claims.sub.startsWith("key_") ? "api_key" : "oauth_client",
    mode: sessionMode(claims),
    scopes: claims.scope.split(" ").filter(Boolean),
    rateLimits: claims.rl ?? null,
    // The credential's own restrictions are read from D1 when they matter (see restrictionsOf).
    expiresAt: null,
    ipAllowlist: null,
    ip,
    session: { id: claims.sid, kind: claims.kind, expiresAt: claims.exp * 1000 },
  };
  // The object's own copy of the policy decides: startSession stored it.
  return { principal, policy: null };
}

function callerPrincipal(op: TenantOp): Principal {
  if (!("principal" in op.caller)) throw new ForbiddenError("credential_type_not_allowed", "Sessions belong to a tenant credential");
  return op.caller.principal;
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
