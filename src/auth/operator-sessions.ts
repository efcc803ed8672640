import type { Config } from "../config";
import { type AuditActor, auditStatement, OPERATOR_LOG } from "../db/audit";
import { createDb } from "../db/client";
import { newId } from "../lib/crypto";
import { AuthenticationError, ForbiddenError } from "../lib/errors";
import { credentialGate } from "../objects";
import { OPERATOR_PORTAL_POLICY } from "./operator-portal";
import { SESSION_MAX_SECONDS } from "./session-tokens";
import { peekAudience, signJwt, verifyJwt } from "./tokens";

/**
 * Operator console sessions: the operator token (or a Cloudflare Access
 * identity) is exchanged once for a short-lived bearer token the page keeps
 * instead of the operator token. Its signing key includes the operator token,
 * so changing ADMIN_TOKEN ends every session; sign-out ends one at once, in
 * every isolate, through the object that keeps them live.
 */
const ISSUER = "hookgate";
export const OPERATOR_SESSION_AUDIENCE = "hookgate-operator";
/** The object that keeps the console's live sessions (it holds no secret and no restriction). */
const CONSOLE_CREDENTIAL = "opc_console";

export type OperatorSessionGrant = { token: string; sessionId: string; kind: "operator"; actor: string; expiresAt: Date };
type Claims = { iss: string; aud: string; sub: string; sid: string; iat: number; exp: number };

const signingKey = (config: Config) => `${config.tokenSigningKey}\u0000operator-console\u0000${config.adminToken}`;

export const isOperatorSessionToken = (token: string) => peekAudience(token) === OPERATOR_SESSION_AUDIENCE;

/** Starts a console session acting as `actor` (`operator` or `operator:<email>`) for 8 h at most. */
export async function startOperatorSession(
  env: Env,
  config: Config,
  who: Omit<AuditActor, "tenantId">,
  viaSession: boolean,
): Promise<OperatorSessionGrant> {
  if (viaSession) throw new ForbiddenError("credential_type_not_allowed", "A console session cannot start another; sign in again");
  const now = Date.now();
  const expiresAt = now + SESSION_MAX_SECONDS * 1000;
  const sessionId = newId("ses");
  await credentialGate(env, CONSOLE_CREDENTIAL).startSession(
    CONSOLE_CREDENTIAL,
    OPERATOR_PORTAL_POLICY,
    { id: sessionId, expiresAt },
    null,
  );
  const claims: Claims = {
    iss: ISSUER,
    aud: OPERATOR_SESSION_AUDIENCE,
    sub: who.actor,
    sid: sessionId,
    iat: Math.floor(now / 1000),
    exp: Math.floor(expiresAt / 1000),
  };
  const token = await signJwt(signingKey(config), claims);
  await auditStatement(
    createDb(env.DB),
    { ...who, tenantId: OPERATOR_LOG },
    {
      action: "dashboard.session_started",
      target: sessionId,
      details: { kind: "operator", expiresAt: new Date(expiresAt).toISOString() },
    },
  ).run();
  return { token, sessionId, kind: "operator", actor: who.actor, expiresAt: new Date(expiresAt) };
}

/** The actor and session id of a live console session token; 401 otherwise. */
export async function identifyOperatorSession(env: Env, config: Config, token: string): Promise<{ actor: string; sessionId: string }> {
  const check = await verifyJwt(signingKey(config), token);
  const c = (check.ok ? check.payload : null) as Claims | null;
  const now = Date.now();
  if (
    !c ||
    c.iss !== ISSUER ||
    c.aud !== OPERATOR_SESSION_AUDIENCE ||
    typeof c.sub !== "string" ||
    !/^operator(:.+)?$/.test(c.sub) ||
    typeof c.sid !== "string" ||
    typeof c.exp !== "number" ||
    typeof c.iat !== "number" ||
    c.exp - c.iat > SESSION_MAX_SECONDS
  ) {
    throw new AuthenticationError("invalid_credential", "The operator token is not valid");
  }
  if (c.exp * 1000 <= now) throw new AuthenticationError("credential_expired", "The console session has expired; sign in again");
  if (!(await credentialGate(env, CONSOLE_CREDENTIAL).isSessionLive(c.sid))) {
    throw new AuthenticationError("session_ended", "This console session has ended (signed out); sign in again");
  }
  return { actor: c.sub, sessionId: c.sid };
}

/** Ends a console session now. */
export async function endOperatorSession(env: Env, who: Omit<AuditActor, "tenantId">, sessionId: string): Promise<void> {
  await credentialGate(env, CONSOLE_CREDENTIAL).endSession(sessionId);
  await auditStatement(
    createDb(env.DB),
    { ...who, tenantId: OPERATOR_LOG },
    {
      action: "dashboard.session_ended",
      target: sessionId,
      details: { kind: "operator" },
    },
  ).run();
}
