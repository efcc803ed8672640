import type { Db } from "../db/client";
import { type EventTypeRow, getVisibleEventType } from "../db/event-types";
import { subscribersOf, type WebhookRow } from "../db/webhooks";
import { TtlCache } from "../lib/ttl-cache";
import { isOperator } from "../tenants/operator";

/**
 * What a publish reads besides its own rows: the event type and the
 * subscriptions that may receive it. Kept in the isolate for at most
 * CATALOG_TTL_MS, so a busy publisher costs one D1 write per event and no
 * read: a type or subscription created, changed or deleted in another
 * isolate takes effect here within two seconds (at once in the isolate that
 * made the change: a list read while it was being written is not kept). A
 * delivery to a subscription disabled meanwhile is held when it comes up for
 * its attempt, never sent (src/delivery/breaker.ts).
 */
export const CATALOG_TTL_MS = 2_000;

// Per tenant: the types it looked up by name (null: not in its catalog), and its subscribers.
const types = new TtlCache<Map<string, EventTypeRow | null>>(CATALOG_TTL_MS, 10_000);
const subscribers = new TtlCache<WebhookRow[]>(CATALOG_TTL_MS, 10_000);

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

// Counts the changes this isolate made: a list read while one was written may predate it, so it is not kept.
let changesMade = 0;

/** Every subscription that may receive the tenant's events (its own, and the operator endpoints covering it): see subscribersOf. */
export async function cachedSubscribers(db: Db, tenantId: string): Promise<WebhookRow[]> {
  const cached = subscribers.get(tenantId);
  if (cached) return cached;
  // Its age counts from before the read: the copy may be as old as the read's start.
  const readAt = Date.now();
  const before = changesMade;
  const rows = await subscribersOf(db, tenantId);
  if (changesMade === before) subscribers.set(tenantId, rows, readAt);
  return rows;
}

/**
 * Drops what this isolate knows of an owner's catalog and subscriptions (the
 * operator's reach every tenant). Subscription writes call it through
 * src/webhooks/store.ts, the one place they are made.
 */
export function forgetCatalog(ownerId: string): void {
  changesMade++;
  if (isOperator(ownerId)) {
    types.clear();
    subscribers.clear();
  } else {
    types.delete(ownerId);
    subscribers.delete(ownerId);
  }
}
