import { ForbiddenError } from "../lib/errors";

/** Hookgate's own resources, each with a `:read` and (but audit) a `:write` scope. */
export const SCOPE_RESOURCES = ["keys", "webhooks", "events", "sources", "audit"] as const;
export type ScopeResource = (typeof SCOPE_RESOURCES)[number];

/** Every scope of Hookgate's own API. */
export const RESOURCE_SCOPES = [
  "keys:read",
  "keys:write",
  "webhooks:read",
  "webhooks:write",
  "events:read",
  "events:write",
  "sources:read",
  "sources:write",
  "audit:read",
] as const;

export const WILDCARD_SCOPES = ["api:read", "api:write"] as const;

/** Resource scopes plus the two wildcards `api:read` and `api:write`. */
export const ALL_SCOPES = [...RESOURCE_SCOPES, ...WILDCARD_SCOPES] as const;

export type Scope = (typeof ALL_SCOPES)[number];

const HOOKGATE_SCOPES: ReadonlySet<string> = new Set(ALL_SCOPES);

/** True for a name Hookgate itself defines (so the operator may not reuse it). */
export const isHookgateScope = (name: string) => HOOKGATE_SCOPES.has(name);

/**
 * Expands `api:read`/`api:write` into the scopes they stand for: Hookgate's
 * and the operator's product scopes (`product`, the live list) of that kind.
 */
export function expandScopes(scopes: readonly string[], product: readonly string[] = []): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    if (s === "api:read" || s === "api:write") {
      const suffix = s.slice(3);
      for (const r of RESOURCE_SCOPES) if (r.endsWith(suffix)) out.add(r);
      for (const p of product) if (p.endsWith(suffix)) out.add(p);
    } else {
      out.add(s);
    }
  }
  return out;
}

export function hasScope(held: readonly string[], required: string, product: readonly string[] = []): boolean {
  return expandScopes(held, product).has(required);
}

/** Scopes in `requested` that `held` does not cover (empty = no escalation). */
export function missingScopes(held: readonly string[], requested: readonly string[], product: readonly string[] = []): string[] {
  const have = expandScopes(held, product);
  return [...expandScopes(requested, product)].filter((s) => !have.has(s));
}

/** The scope a request needs: GET/HEAD read the resource, everything else writes it. */
export function requiredScope(resource: ScopeResource, method: string): string {
  const m = method.toUpperCase();
  return `${resource}:${m === "GET" || m === "HEAD" ? "read" : "write"}`;
}

/** Refuses (403) a credential granting scopes it does not hold itself. */
export function assertCanGrant(held: readonly string[], requested: readonly string[], product: readonly string[] = []): void {
  const missing = missingScopes(held, requested, product);
  if (missing.length > 0) {
    throw new ForbiddenError("scope_escalation", `A credential cannot grant scopes it does not hold: ${missing.join(", ")}`, {
      requiredScope: missing[0],
      missingScopes: missing,
    });
  }
}
