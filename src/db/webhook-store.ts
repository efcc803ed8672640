import { and, eq, isNull } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { MODES, type Mode } from "../common/enums";
import { TtlCache } from "../lib/ttl-cache";
import { isOperator } from "../tenants/operator";
import { changes, type Db, insertUnderQuota, runBatch } from "./client";
import { webhooks } from "./schema";
import { countedWebhooks, subscribersOf, type WebhookPatch, type WebhookRow } from "./webhooks";

/**
 * The subscriptions a publish reads, kept in the isolate, and the one write
 * path of the webhooks table, side by side so that no write can leave a
 * cached copy behind. Every change to a subscription (created, changed, its
 * secret rotated, deleted, disabled by a 410 or its breaker, enabled again
 * when the breaker heals) is written here, in one batch with its audit
 * entry, and the isolate's lists are dropped as the batch returns: the next
 * publish or attempt in this isolate reads the new row; other isolates do
 * within SUBSCRIBERS_TTL_MS, counted from the start of their read.
 * test/unit/subscription-writes.test.ts keeps every other module off the
 * table's writes.
 */
export const SUBSCRIBERS_TTL_MS = 2_000;

// Per tenant and mode (`<tenant>/<mode>`): the subscriptions that may receive its events (subscribersOf).
const subscribers = new TtlCache<WebhookRow[]>(SUBSCRIBERS_TTL_MS, 10_000);
// Counts the changes this isolate made: a list read while one was written may predate it, so it is not kept.
let changesMade = 0;

/** What subscribersOf answers, from the isolate when it read it less than SUBSCRIBERS_TTL_MS ago. */
export async function cachedSubscribers(db: Db, tenantId: string, mode: Mode): Promise<WebhookRow[]> {
  const key = `${tenantId}/${mode}`;
  const cached = subscribers.get(key);
  if (cached) return cached;
  // Its age counts from before the read: the copy may be as old as the read's start.
  const readAt = Date.now();
  const before = changesMade;
  const rows = await subscribersOf(db, tenantId, mode);
  if (changesMade === before) subscribers.set(key, rows, readAt);
  return rows;
}

/** Drops the lists an owner's subscriptions are in: its own, or every tenant's for the operator's endpoints. */
function forgetSubscribers(ownerId: string): void {
  changesMade++;
  if (isOperator(ownerId)) subscribers.clear();
  else for (const mode of MODES) subscribers.delete(`${ownerId}/${mode}`);
}

type Statement = BatchItem<"sqlite">;

async function commit(db: Db, ownerId: string, statements: Statement[]): Promise<unknown[]> {
  try {
    return await runBatch(db, statements);
  } finally {
    // Dropped even when the batch failed: whether it was applied is not known, and a reread costs little.
    forgetSubscribers(ownerId);
  }
}

/** A new subscription, with `audit` in the same batch; within `quota` when given (false: full, nothing written). */
export async function storeNewSubscription(
  db: Db,
  row: typeof webhooks.$inferInsert,
  quota: number | null,
  audit: Statement,
): Promise<boolean> {
  const insert =
    quota === null
      ? db.insert(webhooks).values(row)
      : insertUnderQuota(db, webhooks, row, countedWebhooks(row.tenantId, row.mode ?? "live"), quota);
  const [inserted] = await commit(db, row.tenantId, [insert, audit]);
  return changes(inserted) === 1;
}

/** Changes a live subscription of `ownerId` (PATCH, a rotated secret). */
export async function storeSubscriptionChange(db: Db, ownerId: string, id: string, set: WebhookPatch, audit: Statement): Promise<void> {
  await commit(db, ownerId, [
    db
      .update(webhooks)
      .set(set)
      .where(and(eq(webhooks.tenantId, ownerId), isNull(webhooks.deletedAt), eq(webhooks.id, id))),
    audit,
  ]);
}

/** Soft-deletes a live subscription of `ownerId` (its pending deliveries are cancelled in the data plane). */
export async function storeSubscriptionDeleted(db: Db, ownerId: string, id: string, audit: Statement, now = new Date()): Promise<void> {
  await commit(db, ownerId, [
    db
      .update(webhooks)
      .set({ deletedAt: now, isEnabled: false, updatedAt: now })
      .where(and(eq(webhooks.tenantId, ownerId), isNull(webhooks.deletedAt), eq(webhooks.id, id))),
    audit,
  ]);
}

type Subscription = Pick<WebhookRow, "id" | "tenantId">;

/** Hookgate disables a subscription: it answered 410 Gone, or its breaker tripped. */
export async function storeSubscriptionDisabled(
  db: Db,
  webhook: Subscription,
  reason: "gone" | "circuit_breaker",
  audit: Statement,
  now = new Date(),
): Promise<void> {
  await commit(db, webhook.tenantId, [
    db.update(webhooks).set({ isEnabled: false, disabledReason: reason, updatedAt: now }).where(eq(webhooks.id, webhook.id)),
    audit,
  ]);
}

/** The breaker healed: enabled again, unless someone switched it off (or a 410 disabled it) meanwhile. */
export async function storeSubscriptionRecovered(db: Db, webhook: Subscription, audit: Statement, now = new Date()): Promise<void> {
  await commit(db, webhook.tenantId, [
    db
      .update(webhooks)
      .set({ isEnabled: true, disabledReason: null, updatedAt: now })
      .where(and(eq(webhooks.id, webhook.id), eq(webhooks.disabledReason, "circuit_breaker"))),
    audit,
  ]);
}
