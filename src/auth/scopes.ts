import { ApiError } from "../errors";

/** Every resource scope a credential can hold. */
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

/** Resource scopes plus the two wildcards `api:read` and `api:write`. */
export const ALL_SCOPES = [...RESOURCE_SCOPES, "api:read", "api:write"] as const;

export type Scope = (typeof ALL_SCOPES)[number];
export type ScopeResource = "keys" | "webhooks" | "events" | "sources" | "audit";

/** Expands `api:read`/`api:write` into the resource scopes they stand for. */
export function expandScopes(scopes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const s of scopes) {
    if (s === "api:read" || s === "api:write") {
      const suffix = s.slice(3);
      for (const r of RESOURCE_SCOPES) if (r.endsWith(suffix)) out.add(r);
    } else {
      out.add(s);
    }
  }
  return out;
}

export function hasScope(held: readonly string[], required: string): boolean {
  return expandScopes(held).has(required);
}

/** Scopes in `requested` that `held` does not cover (empty = no escalation). */
export function missingScopes(held: readonly string[], requested: readonly string[]): string[] {
  const have = expandScopes(held);
  return [...expandScopes(requested)].filter((s) => !have.has(s));
}

/** The scope a request needs: GET/HEAD read the resource, everything else writes it. */
export function requiredScope(resource: ScopeResource, method: string): string {
  const m = method.toUpperCase();
  return `${resource}:${m === "GET" || m === "HEAD" ? "read" : "write"}`;
}

/** Refuses (403) a credential granting scopes it does not hold itself. */
export function assertCanGrant(held: readonly string[], requested: readonly string[]): void {
  const missing = missingScopes(held, requested);
  if (missing.length > 0) {
    throw new ApiError("scope_escalation", `A credential cannot grant scopes it does not hold: ${missing.join(", ")}`, {
      requiredScope: missing[0],
      missingScopes: missing,
    });
  }
}
