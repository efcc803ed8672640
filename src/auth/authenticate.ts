import type { Context, MiddlewareHandler } from "hono";
import { createDb } from "../db/client";
import { findKeyByHash } from "../db/keys";
import { getTenant, type TenantRow } from "../db/tenants";
import type { Env } from "../env";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { sha256Hex } from "../lib/crypto";
import { credentialGate } from "../ratelimit/credential-limiter";
import { bucketFor, effectiveWindow, policyName, rateLimitHeaders } from "../ratelimit/limits";
import type { CredentialPolicy } from "../ratelimit/policy";
import { keyRecords, tenantRecords } from "./cache";
import { clientIp, extractCredential } from "./credentials";
import { parseApiKey } from "./key-format";
import type { Principal } from "./principal";
import { hasScope, requiredScope, type ScopeResource } from "./scopes";
import { looksLikeJwt, verifyAccessToken } from "./tokens";

type Resolved = { principal: Principal; policy: CredentialPolicy | null };

/**
 * Verifies the tenant credential, the scope `resource` needs for this method,
 * and the credential's live state and rate limit. Every refusal but the last
 * happens before anything is counted: the format/checksum test needs no
 * storage, the record usually comes from the isolate cache, and a single
 * Durable Object call decides revocation, expiry, IP allowlist and the limit.
 */
export const requireCredential = (resource: ScopeResource | null): MiddlewareHandler<AppEnv> =>
  async function credentialMiddleware(c, next) {
    const presented = extractCredential(c.req.raw.headers);
    if (presented === undefined) {
      throw new ApiError("unauthorized", "Send a credential in Authorization: Bearer <credential> or X-Api-Key: <key>");
    }
    const { principal, policy } = await resolve(c, presented);
    authorize(principal, resource, c.req.method);

    const bucket = bucketFor(c.req.method);
    const window = effectiveWindow(bucket, principal.rateLimits, principal.tenant.rateLimits);
    const gate = await credentialGate(c.env, principal.credentialId).check({
      credentialId: principal.credentialId,
      bucket,
      window,
      policy,
      ip: principal.ip,
    });
    switch (gate.verdict) {
      case "revoked":
        throw new ApiError("credential_revoked", "The credential has been revoked");
      case "expired":
        throw new ApiError("credential_expired", "The credential has expired");
      case "ip_not_allowed":
        throw new ApiError("ip_not_allowed", `Requests from ${principal.ip ?? "an unknown address"} are not allowed for this credential`);
      case "unknown":
        throw new ApiError("invalid_credential", "The credential is not valid");
      case "rate_limited":
        throw new ApiError(
          "rate_limited",
          `Rate limit exceeded for ${bucket} requests; retry in ${gate.slotSeconds} s`,
          { policy: policyName(bucket, window), retryAfter: gate.slotSeconds },
          { ...rateLimitHeaders(bucket, window, gate), "Retry-After": String(gate.slotSeconds) },
        );
      case "ok":
        break;
    }
    c.set("principal", principal);
    await next();
    for (const [name, value] of Object.entries(rateLimitHeaders(bucket, window, gate))) c.res.headers.set(name, value);
  };

async function resolve(c: Context<AppEnv>, presented: string): Promise<Resolved> {
  const config = c.get("config");
  const ip = clientIp(c.req.raw.headers);
  if (looksLikeJwt(presented)) {
    const check = await verifyAccessToken(config.tokenSigningKey, presented);
    if (!check.ok) {
      if (check.reason === "expired") throw new ApiError("credential_expired", "The access token has expired");
      throw new ApiError("invalid_credential", "The access token is not valid");
    }
    const { claims } = check;
    const tenant = await cachedTenant(c.env, claims.ten);
    if (!tenant) throw new ApiError("invalid_credential", "The access token is not valid");
    return {
      principal: {
        tenant,
        credentialId: claims.sub,
        credentialType: "oauth_client",
        scopes: claims.scope.split(" ").filter(Boolean),
        // OAuth clients have no per-client override (SPEC §3.2): the tenant's limits apply.
        rateLimits: null,
        ip,
      },
      policy: null,
    };
  }

  const parsed = parseApiKey(config.keyPrefix, presented);
  if (!parsed) throw new ApiError("invalid_credential", "The credential is malformed or its checksum is wrong");
  const hash = await sha256Hex(presented);
  let found = keyRecords.get(hash);
  if (found === undefined) {
    found = (await findKeyByHash(createDb(c.env.DB), hash)) ?? null;
    keyRecords.set(hash, found);
  }
  if (!found || found.tenant.id !== parsed.tenantId) throw new ApiError("invalid_credential", "The API key is not valid");
  const { key, tenant } = found;
  return {
    principal: {
      tenant,
      credentialId: key.id,
      credentialType: "api_key",
      scopes: key.scopes,
      rateLimits: key.rateLimits,
      ip,
    },
    policy: {
      revokedAt: key.revokedAt?.getTime() ?? null,
      expiresAt: key.expiresAt?.getTime() ?? null,
      ipAllowlist: key.ipAllowlist,
    },
  };
}

export async function cachedTenant(env: Env, id: string): Promise<TenantRow | undefined> {
  let tenant = tenantRecords.get(id);
  if (!tenant) {
    tenant = await getTenant(createDb(env.DB), id);
    if (tenant) tenantRecords.set(id, tenant);
  }
  return tenant;
}

/** Tenant API access and scope (none for `null`): the checks that need no storage. */
export function authorize(principal: Principal, resource: ScopeResource | null, method: string): void {
  if (!principal.tenant.apiAccess) {
    throw new ApiError("api_access_disabled", "API access is disabled for this account; contact your account manager");
  }
  if (resource === null) return;
  const needed = requiredScope(resource, method);
  if (!hasScope(principal.scopes, needed)) {
    throw new ApiError("insufficient_scope", `This request needs the ${needed} scope`, { requiredScope: needed });
  }
}

/** Audit identity of the current request. */
export function auditActor(principal: Principal, requestId: string) {
  return { tenantId: principal.tenant.id, actor: principal.credentialId, ip: principal.ip, requestId };
}
