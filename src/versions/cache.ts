import { createDb } from "../db/client";
import { versionsOfType } from "../db/event-type-versions";
import { TtlCache } from "../lib/ttl-cache";
import { isOperator } from "../tenants/operator";
import type { TypeVersion } from "./convert";

/**
 * The versions of the types a delivery converts, kept in the isolate for at
 * most VERSIONS_TTL_MS (like the event catalog's cache): a busy endpoint
 * costs no read per delivery. A version added in another isolate is seen
 * here within two seconds, at once in the isolate that added it.
 */
export const VERSIONS_TTL_MS = 2_000;

// Per tenant whose events are converted: each type's versions, oldest first.
const known = new TtlCache<Map<string, TypeVersion[]>>(VERSIONS_TTL_MS, 10_000);

/** The versions of `typeName` as `tenantId` sees it (its own type, or the operator's), oldest first. */
export async function cachedTypeVersions(env: Pick<Env, "DB">, tenantId: string, typeName: string): Promise<TypeVersion[]> {
  let types = known.get(tenantId);
  if (!types) {
    types = new Map();
    known.set(tenantId, types);
  }
  let versions = types.get(typeName);
  if (!versions) {
    const rows = await versionsOfType(createDb(env.DB), tenantId, typeName);
    versions = rows.map((r) => ({ version: r.version, downgrade: r.downgrade ?? null }));
    types.set(typeName, versions);
  }
  return versions;
}

/** Drops what this isolate knows of an owner's versions (the operator's types reach every tenant). */
export function forgetTypeVersions(ownerId: string): void {
  if (isOperator(ownerId)) known.clear();
  else known.delete(ownerId);
}
