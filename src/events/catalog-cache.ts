import type { Db } from "../db/client";
import { type EventTypeRow, getVisibleEventType } from "../db/event-types";
import { TtlCache } from "../lib/ttl-cache";
import { isOperator } from "../tenants/operator";

/**
 * The event types a publish looks up, kept in the isolate for at most
 * CATALOG_TTL_MS, so a busy publisher costs one D1 write per event and no
 * read: a type created, changed or archived in another isolate takes effect
 * here within two seconds (at once in the isolate that made the change).
 * The subscriptions it reads are kept beside their writes, in
 * src/db/webhook-store.ts.
 */
export const CATALOG_TTL_MS = 2_000;

// Per tenant: the types it looked up by name (null: not in its catalog).
const types = new TtlCache<Map<string, EventTypeRow | null>>(CATALOG_TTL_MS, 10_000);

export async function cachedEventType(db: Db, tenantId: string, name: string): Promise<EventTypeRow | undefined> {
  let known = types.get(tenantId);
  if (!known) {
    known = new Map();
    types.set(tenantId, known);
  }
  let row = known.get(name);
  if (row === undefined) {
    row = (await getVisibleEventType(db, tenantId, name)) ?? null;
    known.set(name, row);
  }
  return row ?? undefined;
}

/** Drops what this isolate knows of an owner's catalog (the operator's reaches every tenant). */
export function forgetCatalog(ownerId: string): void {
  if (isOperator(ownerId)) types.clear();
  else types.delete(ownerId);
}
