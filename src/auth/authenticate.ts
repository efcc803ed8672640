import { hasScope, isHookgateScope } from "../common/scopes";
import type { Config } from "../config";
import { createDb } from "../db/client";
import { findKeyByHash } from "../db/keys";
import { sha256Hex } from "../lib/crypto";
import { AuthenticationError, DomainError, ForbiddenError } from "../lib/errors";
import type { Background } from "../lib/refresh-ahead";
import { credentialGate } from "../objects";
import { decideApproximately } from "../ratelimit/approximate/isolate-limiter";
import type { Bucket, GateResult, Refusal } from "../ratelimit/gate-types";
import type { Window } from "../ratelimit/gcra";
import { effectiveWindow, RateLimitedError } from "../ratelimit/limits";
import { cachedTenant, rememberTenant } from "../tenants/cache";
import { keyHashes, keyRecords } from "./cache";
import { identifySession } from "./dashboard-sessions";
import { parseApiKey } from "./key-format";
import type { Identified, Principal } from "./principal";
import { isSessionToken } from "./session-tokens";
import { looksLikeJwt, tokenMode, verifyAccessToken } from "./tokens";

/** What one admitted request spent, for its rate-limit headers. */
export type Admission = { principal: Principal; bucket: Bucket; window: Window; gate: GateResult };

/**
 * Format and checksum, then the record (usually from the isolate cache):
 * the checks that need no Durable Object and spend nothing. Throws 401s.
 * A dashboard session token is accepted only where `sessions` is set
 * (Hookgate's own API, never the gateway or the verify API).
 */
export async function identify(
  env: Env,
  config: Config,
  presented: string,
  ip: string | null,
  /** `background`: where a hot record may be read again ahead of time (src/lib/refresh-ahead.ts). */
  opts: { sessions?: boolean; background?: Background } = {},
): Promise<Identified> {
  if (looksLikeJwt(presented) && isSessionToken(presented)) {
    if (!opts.sessions) throw new AuthenticationError("invalid_credential", "A dashboard session works only on Hookgate's own API");
    return identifySession(env, config, presented, ip);
  }
  if (looksLikeJwt(presented)) {
    const check = await verifyAccessToken(config.tokenSigningKey, presented);
    if (!check.ok) {
      if (check.reason === "expired") throw new AuthenticationError("credential_expired", "The access token has expired");
      throw new AuthenticationError(
        "invalid_credential",
        "The access token is not valid",
        check.reason === "malformed" ? "malformed" : "unknown",
      );
    }
    const { claims } = check;
    const tenant = await cachedTenant(env.DB, claims.ten, opts.background);
    if (!tenant) throw new AuthenticationError("invalid_credential", "The access token is not valid");
    return {
      principal: {
        tenant,
        credentialId: claims.sub,
        credentialType: "oauth_client",
        mode: tokenMode(claims),
        scopes: claims.scope.split(" ").filter(Boolean),
        rateLimits: null,
        expiresAt: null,
        ipAllowlist: null,
        ip,
      },
      // Only the client's object knows its live state; a token carries none it could outlive.
      policy: null,
    };
  }

  let known = keyHashes.get(presented);
  if (known === undefined) {
    const parsed = parseApiKey(config.keyPrefix, presented);
    if (!parsed) {
      throw new AuthenticationError("invalid_credential", "The credential is malformed or its checksum is wrong", "malformed");
    }
    known = { hash: await sha256Hex(presented), tenantId: parsed.tenantId };
    keyHashes.set(presented, known);
  }
  const { hash, tenantId } = known;
  const key = await keyRecords.load(
    hash,
    async () => {
      const found = await findKeyByHash(createDb(env.DB), hash);
      if (found) rememberTenant(found.tenant);
      return found?.key ?? null;
    },
    opts.background,
  );
  const tenant = key && key.tenantId === tenantId ? await cachedTenant(env.DB, key.tenantId, opts.background) : undefined;
  if (!key || !tenant) throw new AuthenticationError("invalid_credential", "The API key is not valid");
  return {
    principal: {
      tenant,
      credentialId: key.id,
      credentialType: "api_key",
      mode: key.mode,
      scopes: key.scopes,
      rateLimits: key.rateLimits,
      expiresAt: key.expiresAt?.getTime() ?? null,
      ipAllowlist: key.ipAllowlist,
      ip,
    },
    policy: {
      revokedAt: key.revokedAt?.getTime() ?? null,
      expiresAt: key.expiresAt?.getTime() ?? null,
      ipAllowlist: key.ipAllowlist,
    },
  };
}

/**
 * Where the tenant's limit mode applies (the gateway and the verify API; Hookgate's own API is
 * always exact): how to run the approximate mode's reconciliation after the response.
 */
export type TenantLimitMode = { background: Background };

/**
 * The rest of the documented order of checks in one Durable Object call: revoked/expired
 * (401), IP (403), API access (403), scope (403), rate limit (429). Only an
 * admitted request spends `cost`. `scope` null: any valid credential. With
 * `limitMode`, a tenant in the approximate mode is decided in the isolate
 * (src/ratelimit/approximate/), the same checks in the same order.
 */
export async function admit(
  env: Env,
  { principal, policy }: Identified,
  need: { scope: string | null; bucket: Bucket; cost?: number; productScopes?: readonly string[] },
  limitMode?: TenantLimitMode,
): Promise<Admission> {
  const refusal = refusalOf(principal, need.scope, need.productScopes ?? []);
  const window = effectiveWindow(need.bucket, principal.rateLimits, principal.tenant.rateLimits);
  const approximate = limitMode !== undefined && principal.tenant.limitMode === "approximate" && !principal.session;
  const gate = approximate
    ? await decideApproximately(
        env,
        {
          credentialId: principal.credentialId,
          policy,
          bucket: need.bucket,
          mode: principal.mode,
          window,
          cost: need.cost ?? 1,
          refusal,
          ip: principal.ip,
        },
        limitMode.background,
      )
    : await credentialGate(env, principal.credentialId).check({
        credentialId: principal.credentialId,
        tenantId: principal.tenant.id,
        bucket: need.bucket,
        mode: principal.mode,
        window,
        cost: need.cost ?? 1,
        policy,
        refusal,
        ip: principal.ip,
        session: principal.session?.id ?? null,
      });
  throwUnlessAdmitted(gate, principal, need.bucket, window, need.scope);
  return { principal, bucket: need.bucket, window, gate };
}

/**
 * The refusals decided in the isolate: API access off, or the scope not
 * held. A product scope counts only while it is in the operator's live list
 * (`product`): one removed from it grants nothing, whoever holds it.
 */
function refusalOf(principal: Principal, scope: string | null, product: readonly string[]): Refusal | null {
  if (!principal.tenant.apiAccess) return "api_access_disabled";
  if (scope === null) return null;
  const offered = isHookgateScope(scope) || product.includes(scope);
  return offered && hasScope(principal.scopes, scope, product) ? null : "insufficient_scope";
}

function throwUnlessAdmitted(gate: GateResult, principal: Principal, bucket: Bucket, window: Window, scope: string | null): void {
  switch (gate.verdict) {
    case "ok":
      return;
    case "revoked":
      throw new AuthenticationError("credential_revoked", "The credential has been revoked");
    case "expired":
      throw new AuthenticationError("credential_expired", "The credential has expired");
    case "unknown":
      throw new AuthenticationError("invalid_credential", "The credential is not valid");
    case "session_ended":
      throw new AuthenticationError("session_ended", "This dashboard session has ended (signed out); sign in again");
    case "ip_not_allowed":
      throw new ForbiddenError(
        "ip_not_allowed",
        `Requests from ${principal.ip ?? "an unknown address"} are not allowed for this credential`,
      );
    case "api_access_disabled":
      throw new ForbiddenError("api_access_disabled", "API access is disabled for this account; contact your account manager");
    case "insufficient_scope":
      throw new ForbiddenError("insufficient_scope", `This request needs the ${scope} scope`, { requiredScope: scope ?? undefined });
    case "rate_limited":
      throw new RateLimitedError(bucket, window, gate);
    default:
      throw new DomainError("internal_error", "Unexpected gate verdict");
  }
}
