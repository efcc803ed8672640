import { and, asc, count, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import { OPERATOR_ID } from "../tenants/operator";
import type { Db } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { webhooks } from "./schema";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookPatch = Partial<Omit<WebhookRow, "id" | "tenantId" | "createdAt" | "deletedAt">>;

/** The owner's subscriptions not deleted. Writes go through src/db/webhook-store.ts, never from here. */
export const liveWebhook = (tenantId: string) => and(eq(webhooks.tenantId, tenantId), isNull(webhooks.deletedAt));
// `hookgate listen` sessions' subscriptions are temporary and outside the `webhooks` quota.
export const countedWebhooks = (tenantId: string) =>
  and(liveWebhook(tenantId), or(isNull(webhooks.managedBy), ne(webhooks.managedBy, "cli")));

export async function getWebhook(db: Db, tenantId: string, id: string): Promise<WebhookRow | undefined> {
  return db
    .select()
    .from(webhooks)
    .where(and(liveWebhook(tenantId), eq(webhooks.id, id)))
    .get();
}

export async function countWebhooks(db: Db, tenantId: string): Promise<number> {
  const row = await db.select({ n: count() }).from(webhooks).where(countedWebhooks(tenantId)).get();
  return row?.n ?? 0;
}

export async function listWebhooks(db: Db, tenantId: string, limit: number, after?: Cursor): Promise<Page<WebhookRow>> {
  const rows = await db
    .select()
    .from(webhooks)
    .where(and(liveWebhook(tenantId), afterCursor(webhooks.createdAt, webhooks.id, after)))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (w) => ({ t: w.createdAt.getTime(), id: w.id }));
}

/**
 * Subscriptions that may receive events of `tenantId`: the tenant's own,
 * and the operator's endpoints that cover the tenant (`tenantIds` null:
 * every tenant); enabled, or disabled by their breaker (their deliveries
 * are created held until it heals). One switched off by its owner or by a
 * 410 receives nothing new. Which of them a given event reaches is decided
 * by their event types and filters.
 */
export async function subscribersOf(db: Db, tenantId: string): Promise<WebhookRow[]> {
  const rows = await db
    .select()
    .from(webhooks)
    .where(
      and(
        inArray(webhooks.tenantId, [tenantId, OPERATOR_ID]),
        isNull(webhooks.deletedAt),
        or(eq(webhooks.isEnabled, true), eq(webhooks.disabledReason, "circuit_breaker")),
      ),
    )
    .all();
  const covers = (w: WebhookRow) => w.tenantId === tenantId || w.tenantIds === null || w.tenantIds.includes(tenantId);
  return rows.filter(covers);
}

export const webhookExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${webhooks} WHERE ${eq(webhooks.id, id)})`;

/** A subscription by id alone, deleted ones too: what an attempt checks before it sends. */
export async function webhookById(db: Db, id: string): Promise<WebhookRow | undefined> {
  return db.select().from(webhooks).where(eq(webhooks.id, id)).get();
}
