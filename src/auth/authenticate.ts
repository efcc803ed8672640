import type { MiddlewareHandler } from "hono";
import { createDb } from "../db/client";
import { findKeyByHash, touchKeyLastUsed } from "../db/keys";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { ipAllowed } from "../lib/ip";
import { sha256Hex } from "../lib/crypto";
import { clientIp, extractCredential } from "./credentials";
import { parseApiKey } from "./key-format";
import type { Principal } from "./principal";
import { hasScope, requiredScope, type ScopeResource } from "./scopes";

// lastUsedAt is kept to the minute: write it at most once a minute per key.
const LAST_USED_PRECISION_MS = 60_000;

/**
 * Verifies the tenant credential and the scope `resource` needs for this
 * method. Order matters: the format and checksum test needs no storage, and
 * every refusal happens before anything is counted against the key.
 */
export const requireCredential = (resource: ScopeResource): MiddlewareHandler<AppEnv> =>
  async function credentialMiddleware(c, next) {
    const config = c.get("config");
    const presented = extractCredential(c.req.raw.headers);
    if (presented === undefined) {
      throw new ApiError("unauthorized", "Send an API key in Authorization: Bearer <key> or X-Api-Key: <key>");
    }
    const parsed = parseApiKey(config.keyPrefix, presented);
    if (!parsed) throw new ApiError("invalid_credential", "The credential is malformed or its checksum is wrong");

    const db = createDb(c.env.DB);
    const found = await findKeyByHash(db, await sha256Hex(presented));
    if (!found || found.tenant.id !== parsed.tenantId) {
      throw new ApiError("invalid_credential", "The API key is not valid");
    }
    const { key, tenant } = found;
    const now = Date.now();
    if (key.revokedAt && key.revokedAt.getTime() <= now) {
      throw new ApiError("credential_revoked", "The API key has been revoked");
    }
    if (key.expiresAt && key.expiresAt.getTime() <= now) {
      throw new ApiError("credential_expired", `The API key expired at ${key.expiresAt.toISOString()}`);
    }

    const principal: Principal = {
      tenant,
      credentialId: key.id,
      credentialType: "api_key",
      scopes: key.scopes,
      rateLimits: key.rateLimits,
      ip: clientIp(c.req.raw.headers),
    };
    authorize(principal, key.ipAllowlist, resource, c.req.method);
    c.set("principal", principal);

    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
      c.executionCtx.waitUntil(touchKeyLastUsed(db, key.id, new Date(now)).catch((e) => console.error("lastUsedAt", e)));
    }
    await next();
  };

/** Tenant access, IP allowlist and scope: the checks that need no storage. */
export function authorize(
  principal: Principal,
  ipAllowlist: string[] | null,
  resource: ScopeResource,
  method: string,
): void {
  if (!principal.tenant.apiAccess) {
    throw new ApiError("api_access_disabled", "API access is disabled for this account; contact your account manager");
  }
  if (ipAllowlist && ipAllowlist.length > 0 && !ipAllowed(principal.ip ?? undefined, ipAllowlist)) {
    throw new ApiError("ip_not_allowed", `Requests from ${principal.ip ?? "an unknown address"} are not allowed for this credential`);
  }
  const needed = requiredScope(resource, method);
  if (!hasScope(principal.scopes, needed)) {
    throw new ApiError("insufficient_scope", `This request needs the ${needed} scope`, { requiredScope: needed });
  }
}

/** Audit identity of the current request. */
export function auditActor(principal: Principal, requestId: string) {
  return { tenantId: principal.tenant.id, actor: principal.credentialId, ip: principal.ip, requestId };
}
