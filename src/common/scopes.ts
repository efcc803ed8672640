/**
 * Hookgate's own scopes and the wildcard rule, declared once for the server,
 * the dashboard and the CLI. Dependency-free: nothing here may import a
 * server module or package.
 */

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

const WILDCARD_DESCRIPTIONS: Record<(typeof WILDCARD_SCOPES)[number], string> = {
  "api:read": "Every :read scope, the product's included",
  "api:write": "Every :write scope, the product's included",
};

/** What one of Hookgate's scopes grants, in words ("Read keys", "Change webhooks", the wildcards' own). */
export function describeScope(scope: Scope): string {
  const [resource, action] = scope.split(":");
  return isWildcardScope(scope)
    ? WILDCARD_DESCRIPTIONS[scope as (typeof WILDCARD_SCOPES)[number]]
    : `${action === "read" ? "Read" : "Change"} ${resource}`;
}

const HOOKGATE_SCOPES: ReadonlySet<string> = new Set(ALL_SCOPES);

/** True for a name Hookgate itself defines (so the operator may not reuse it). */
export const isHookgateScope = (name: string) => HOOKGATE_SCOPES.has(name);

/** True for `api:read` / `api:write`, the scopes that stand for a whole kind. */
export const isWildcardScope = (scope: string) => (WILDCARD_SCOPES as readonly string[]).includes(scope);

/**
 * Expands `api:read`/`api:write` into the scopes they stand for: Hookgate's
 * and the operator's product scopes (`product`, the live list) of that kind.
 * The wildcards themselves are not in the result: use `hasScope` to ask
 * whether a credential holds a scope.
 */
export function expandScopes(scopes: readonly string[], product: readonly string[] = []): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    if (isWildcardScope(s)) {
      const suffix = s.slice(3);
      for (const r of RESOURCE_SCOPES) if (r.endsWith(suffix)) out.add(r);
      for (const p of product) if (p.endsWith(suffix)) out.add(p);
    } else {
      out.add(s);
    }
  }
  return out;
}

/**
 * True when `held` covers `required`. A wildcard is a scope of its own: it is
 * met only by a credential holding that very wildcard, never by one holding
 * each of its members today (the wildcard also covers scopes added later).
 * A held wildcard covers each of its members.
 */
export function hasScope(held: readonly string[], required: string, product: readonly string[] = []): boolean {
  if (held.includes(required)) return true;
  return !isWildcardScope(required) && expandScopes(held, product).has(required);
}

/** Scopes in `requested` that `held` does not cover (empty = no escalation). */
export function missingScopes(held: readonly string[], requested: readonly string[], product: readonly string[] = []): string[] {
  return [...new Set(requested)].filter((s) => !hasScope(held, s, product));
}

const granted = new WeakMap<readonly string[], { product: readonly string[]; scopes: readonly string[] }>();

/**
 * What a credential may do, as told to an origin: the scopes it holds that
 * still grant something (Hookgate's, and the product's while listed) plus
 * every scope its wildcards cover, each once.
 */
export function grantedScopes(held: readonly string[], product: readonly string[] = []): readonly string[] {
  // Both lists come from isolate caches, so the same pair recurs on every request of a credential.
  const known = granted.get(held);
  if (known?.product === product) return known.scopes;
  const live = (s: string) => isHookgateScope(s) || product.includes(s);
  const scopes = [...new Set([...held.filter(live), ...expandScopes(held, product)].filter(live))];
  granted.set(held, { product, scopes });
  return scopes;
}

/** The scope a request needs: GET/HEAD read the resource, everything else writes it. */
export function requiredScope(resource: ScopeResource, method: string): string {
  const m = method.toUpperCase();
  return `${resource}:${m === "GET" || m === "HEAD" ? "read" : "write"}`;
}
