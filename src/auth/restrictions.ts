import type { Mode } from "../common/enums";
import type { Db } from "../db/client";
import { getKey } from "../db/keys";
import { getClient } from "../db/oauth-clients";
import type { RateLimits } from "../db/schema";
import { AuthenticationError, type FieldError, ForbiddenError, ValidationError } from "../lib/errors";
import { rangesWithin } from "../lib/ip";
import { ceilingOf, exceeds } from "../ratelimit/limits";
import type { Caller } from "./caller";
import { assertCanGrant } from "./scopes";

/**
 * What a credential may hand on: nothing it does not hold
 * itself. A credential that expires cannot make one that outlives it, one
 * limited to some addresses cannot make one reachable from others, and no
 * credential's own rate limit may exceed its tenant's.
 */
export type Restrictions = { expiresAt: number | null; ipAllowlist: string[] | null };

/** A caller's own restrictions; an OAuth token's are its client's, read from D1 (writes only, never the hot path). */
export async function restrictionsOf(db: Db, caller: Caller): Promise<Restrictions> {
  if ("operator" in caller) return { expiresAt: null, ipAllowlist: null };
  const p = caller.principal;
  if (p.credentialType === "oauth_client") {
    const client = await getClient(db, p.tenant.id, p.credentialId);
    return { expiresAt: client?.expiresAt?.getTime() ?? null, ipAllowlist: client?.ipAllowlist ?? null };
  }
  if (p.session) {
    // A dashboard session carries its key's id, not its restrictions: they are read now.
    const key = await getKey(db, p.tenant.id, p.credentialId);
    if (!key) throw new AuthenticationError("credential_revoked", "The API key has been revoked");
    return { expiresAt: key.expiresAt?.getTime() ?? null, ipAllowlist: key.ipAllowlist };
  }
  return { expiresAt: p.expiresAt, ipAllowlist: p.ipAllowlist };
}

export type Grant = { scopes?: readonly string[]; expiresAt?: Date | null; ipAllowlist?: string[] | null; mode?: Mode };

/**
 * Refuses (403) a grant past the caller's own scopes or restrictions. For a
 * PATCH, pass only the fields being changed.
 */
export async function assertCanHandOn(db: Db, caller: Caller, grant: Grant, productScopes: readonly string[] = []): Promise<void> {
  if ("operator" in caller) return;
  // A live credential may make credentials of either mode; a test one only test ones.
  if (grant.mode === "live" && caller.principal.mode === "test") {
    throw new ForbiddenError("mode_escalation", "A test mode credential can only create test mode credentials", { field: "mode" });
  }
  if (grant.scopes) assertCanGrant(caller.principal.scopes, grant.scopes, productScopes);
  const own = await restrictionsOf(db, caller);
  if (own.expiresAt !== null && grant.expiresAt !== undefined) {
    if (grant.expiresAt === null || grant.expiresAt.getTime() > own.expiresAt) {
      throw new ForbiddenError(
        "restriction_escalation",
        `This credential expires at ${new Date(own.expiresAt).toISOString()}; it cannot create or change one that outlives it`,
        { field: "expiresAt" },
      );
    }
  }
  if (own.ipAllowlist && own.ipAllowlist.length > 0 && grant.ipAllowlist !== undefined) {
    if (!grant.ipAllowlist || grant.ipAllowlist.length === 0 || !rangesWithin(grant.ipAllowlist, own.ipAllowlist)) {
      throw new ForbiddenError(
        "restriction_escalation",
        `This credential is limited to ${own.ipAllowlist.join(", ")}; every range it grants must lie inside them`,
        { field: "ipAllowlist" },
      );
    }
  }
}

/** 422 when a per-credential rate limit exceeds the tenant's (the ceiling is named). */
export function assertWithinCeiling(limits: RateLimits | null | undefined, tenantLimits: RateLimits | null): void {
  if (!limits) return;
  const ceiling = ceilingOf(tenantLimits);
  const errors: FieldError[] = [];
  for (const bucket of ["read", "write"] as const) {
    const w = limits[bucket];
    const c = ceiling[bucket];
    if (w && exceeds(w, c)) {
      errors.push({
        path: `rateLimits.${bucket}`,
        message: `may not exceed the account's limit of ${c.limit} per ${c.windowSeconds} s`,
        ceiling: c,
      } as FieldError);
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
}
