import { and, eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { changes, type Db, insertUnderQuota, runBatch } from "../db/client";
import { webhooks } from "../db/schema";
import { countedWebhooks, liveWebhook, type WebhookPatch, type WebhookRow } from "../db/webhooks";
import { forgetCatalog } from "../events/catalog-cache";

/**
 * The one write path of the webhooks table. Every change to a subscription
 * (created, changed, its secret rotated, deleted, disabled by a 410 or its
 * breaker, enabled again when the breaker heals) is written here, in one
 * batch with its audit entry, and the isolate's cached subscriber lists
 * are dropped as the batch returns: the next publish or attempt in this
 * isolate reads the new row, other isolates within the cache's lifetime
 * (src/events/catalog-cache.ts). test/unit/subscription-writes.test.ts keeps
 * every other module off the table's writes.
 */

type Statement = BatchItem<"sqlite">;

async function commit(db: Db, ownerId: string, statements: Statement[]): Promise<unknown[]> {
  try {
    return await runBatch(db, statements);
  } finally {
    // Dropped even when the batch failed: whether it was applied is not known, and a reread costs little.
    forgetCatalog(ownerId);
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
    quota === null ? db.insert(webhooks).values(row) : insertUnderQuota(db, webhooks, row, countedWebhooks(row.tenantId), quota);
  const [inserted] = await commit(db, row.tenantId, [insert, audit]);
  return changes(inserted) === 1;
}

/** Changes a live subscription of `ownerId` (PATCH, a rotated secret). */
export async function storeSubscriptionChange(db: Db, ownerId: string, id: string, set: WebhookPatch, audit: Statement): Promise<void> {
  await commit(db, ownerId, [
    db
      .update(webhooks)
      .set(set)
      .where(and(liveWebhook(ownerId), eq(webhooks.id, id))),
    audit,
  ]);
}

/** Soft-deletes a live subscription of `ownerId` (its pending deliveries are cancelled in the data plane). */
export async function storeSubscriptionDeleted(db: Db, ownerId: string, id: string, audit: Statement, now = new Date()): Promise<void> {
  await commit(db, ownerId, [
    db
      .update(webhooks)
      .set({ deletedAt: now, isEnabled: false, updatedAt: now })
      .where(and(liveWebhook(ownerId), eq(webhooks.id, id))),
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
