import { MODES, type Mode } from "../common/enums";
import type { RateLimits } from "../db/schema";
import type { DashboardSession } from "./principal";
import { peekAudience, signJwt, verifyJwt } from "./tokens";

/**
 * Dashboard session tokens: HS256 JWTs signed with TOKEN_SIGNING_KEY, like
 * OAuth access tokens, so a request is checked at the edge without D1. Their
 * own audience keeps the two apart: an access token is never a session and
 * a session never an access token. The session's live state (signed out or
 * not) is in the credential's Durable Object, which every request already
 * asks.
 */
const ISSUER = "hookgate";
export const SESSION_AUDIENCE = "hookgate-dashboard";
/** A session ends after 8 h at the latest. */
export const SESSION_MAX_SECONDS = 8 * 3600;

export type SessionClaims = {
  iss: string;
  aud: string;
  /** The credential the session acts as (`key_...`, or `cli_...` for a portal link an OAuth client made). */
  sub: string;
  ten: string;
  /** The session id (`ses_...`). */
  sid: string;
  kind: DashboardSession["kind"];
  /** Space-delimited scopes. */
  scope: string;
  /** The credential's own rate limits (fixed when it was created). */
  rl: RateLimits | null;
  /** The mode the session views; a session started before modes existed has none and is live. */
  mode?: Mode;
  iat: number;
  exp: number;
};

export type SessionTokenInput = {
  credentialId: string;
  tenantId: string;
  sessionId: string;
  kind: DashboardSession["kind"];
  scopes: readonly string[];
  rateLimits: RateLimits | null;
  /** Default `live`. */
  mode?: Mode;
  expiresAt: number;
  now?: number;
};

export type SessionCheck = { ok: true; claims: SessionClaims } | { ok: false; reason: "malformed" | "signature" | "expired" | "claims" };

/** True when a JWT-shaped credential claims to be a dashboard session (its signature is checked later). */
export const isSessionToken = (token: string) => peekAudience(token) === SESSION_AUDIENCE;

export async function signSessionToken(secret: string, input: SessionTokenInput): Promise<string> {
  const claims: SessionClaims = {
    iss: ISSUER,
    aud: SESSION_AUDIENCE,
    sub: input.credentialId,
    ten: input.tenantId,
    sid: input.sessionId,
    kind: input.kind,
    scope: input.scopes.join(" "),
    rl: input.rateLimits,
    mode: input.mode ?? "live",
    iat: Math.floor((input.now ?? Date.now()) / 1000),
    exp: Math.floor(input.expiresAt / 1000),
  };
  return signJwt(secret, claims);
}

export async function verifySessionToken(secret: string, token: string, now = Date.now()): Promise<SessionCheck> {
  const check = await verifyJwt(secret, token);
  if (!check.ok) return check;
  const c = check.payload as SessionClaims;
  if (
    typeof c !== "object" ||
    c === null ||
    c.iss !== ISSUER ||
    c.aud !== SESSION_AUDIENCE ||
    typeof c.sub !== "string" ||
    !/^(key|cli|opr)_/.test(c.sub) ||
    typeof c.ten !== "string" ||
    !c.ten.startsWith("ten_") ||
    typeof c.sid !== "string" ||
    !c.sid.startsWith("ses_") ||
    (c.kind !== "dashboard" && c.kind !== "portal") ||
    typeof c.scope !== "string" ||
    (c.mode !== undefined && !MODES.includes(c.mode)) ||
    typeof c.iat !== "number" ||
    typeof c.exp !== "number" ||
    c.iat * 1000 > now + 60_000 ||
    c.exp - c.iat > SESSION_MAX_SECONDS
  ) {
    return { ok: false, reason: "claims" };
  }
  if (c.exp * 1000 <= now) return { ok: false, reason: "expired" };
  return { ok: true, claims: c };
}

/** The mode a verified session views. */
export const sessionMode = (claims: SessionClaims): Mode => claims.mode ?? "live";
