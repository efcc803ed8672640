import { ALL_SCOPES, describeScope, isHookgateScope } from "../common/scopes";
import { type AuditActor, auditStatement } from "../db/audit";
import { createDb, runBatch } from "../db/client";
import { listProductScopes, replaceProductScopes } from "../db/product-scopes";
import { type FieldError, ValidationError } from "../lib/errors";
import { type Background, RefreshAheadCache } from "../lib/refresh-ahead";

/** `tests:read`, `contacts:write`, `billing-admin:manage`: lowercase `resource:action`. */
export const SCOPE_NAME = /^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$/;
export const MAX_PRODUCT_SCOPES = 200;

export type ProductScope = { name: string; description: string | null };
export type ListedScope = ProductScope & { owner: "hookgate" | "operator" };

/**
 * The live list of the operator's product scopes. D1 holds it (control
 * plane); each isolate keeps a copy for at most SCOPES_TTL_MS, so a scope
 * the operator removes stops granting access everywhere within a second,
 * and at once in the isolate that made the change. A Durable Object would
 * make it exact, but it would be a second object call on every request and
 * one object's throughput for the whole deployment; a D1 read per request
 * would put a remote hop back on the hot path.
 */
export const SCOPES_TTL_MS = 1_000;
const cache = new RefreshAheadCache<ProductScope[]>(SCOPES_TTL_MS / 2, SCOPES_TTL_MS, 1);
// The names, derived once per list read rather than per request.
const names = new WeakMap<ProductScope[], string[]>();

/** `background` (hot paths): the list is read again ahead of time, never while the caller waits. */
export async function productScopes(d1: D1Database, background?: Background): Promise<ProductScope[]> {
  return cache.load(
    "all",
    async () => (await listProductScopes(createDb(d1))).map((r) => ({ name: r.name, description: r.description })),
    background,
  );
}

export async function productScopeNames(d1: D1Database, background?: Background): Promise<string[]> {
  const list = await productScopes(d1, background);
  let listed = names.get(list);
  if (!listed) {
    listed = list.map((s) => s.name);
    names.set(list, listed);
  }
  return listed;
}

/** What a tenant may grant: Hookgate's scopes, then the product's, unpaginated. */
export async function grantableScopes(d1: D1Database): Promise<ListedScope[]> {
  const own = ALL_SCOPES.map((name) => ({ name, description: describeScope(name), owner: "hookgate" as const }));
  return [...own, ...(await productScopes(d1)).map((s) => ({ ...s, owner: "operator" as const }))];
}

/**
 * Replaces the whole list (at most 200, names `resource:action`, none of
 * Hookgate's own: 422 `reserved_scope`). Audited as `scopes.updated` in the
 * operator's log.
 */
export async function setProductScopes(env: { DB: D1Database }, who: AuditActor, scopes: ProductScope[]): Promise<ProductScope[]> {
  const reserved = scopes.flatMap((s, i) =>
    isHookgateScope(s.name) ? [{ path: `scopes.${i}.name`, message: `${s.name} is one of Hookgate's own scopes` }] : [],
  );
  if (reserved.length > 0) throw new ValidationError(reserved, "reserved_scope");
  const twice = scopes.flatMap((s, i) =>
    scopes.findIndex((o) => o.name === s.name) < i ? [{ path: `scopes.${i}.name`, message: `${s.name} is listed twice` }] : [],
  );
  if (twice.length > 0) throw new ValidationError(twice);

  const db = createDb(env.DB);
  const before = new Set(await productScopeNames(env.DB));
  const after = scopes.map((s) => s.name);
  await runBatch(db, [
    ...replaceProductScopes(
      db,
      scopes.map((s, position) => ({ name: s.name, description: s.description, position })),
    ),
    auditStatement(db, who, {
      action: "scopes.updated",
      target: "scopes",
      details: { added: after.filter((n) => !before.has(n)), removed: [...before].filter((n) => !after.includes(n)) },
    }),
  ]);
  cache.delete("all");
  return scopes;
}

/** 422 for any scope that is neither Hookgate's nor in the live product list, listing the valid ones. */
export function assertKnownScopes(requested: readonly string[], product: readonly string[], path = "scopes"): void {
  const known = new Set<string>([...ALL_SCOPES, ...product]);
  const errors: FieldError[] = [];
  requested.forEach((s, i) => {
    if (!known.has(s)) errors.push({ path: `${path}.${i}`, message: `must be one of: ${[...known].join(", ")}`, allowed: [...known] });
  });
  if (errors.length > 0) throw new ValidationError(errors);
}
