import { and, asc, count, eq, inArray, isNull, ne, or, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import { OPERATOR_ID } from "../tenants/operator";
import type { Db } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { webhooks } from "./schema";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookPatch = Partial<Omit<WebhookRow, "id" | "tenantId" | "createdAt" | "deletedAt">>;

/**
 * The owner's subscriptions of one mode, not deleted (the operator's own
 * endpoints are stored as live; their `modes` say whose events they get).
 * Writes go through src/db/webhook-store.ts, never from here.
 */
/** The mode an owner's subscriptions of `mode` are stored in: the operator's own endpoints are stored as live. */
export const storedMode = (ownerId: string, mode: Mode): Mode => (ownerId === OPERATOR_ID ? "live" : mode);

export const liveWebhook = (tenantId: string, mode: Mode) =>
  and(eq(webhooks.tenantId, tenantId), eq(webhooks.mode, mode), isNull(webhooks.deletedAt));
// `hookgate listen` sessions' subscriptions are temporary and outside the `webhooks` quota, which counts within a mode.
export const countedWebhooks = (tenantId: string, mode: Mode) =>
  and(liveWebhook(tenantId, mode), or(isNull(webhooks.managedBy), ne(webhooks.managedBy, "cli")));

export async function getWebhook(db: Db, tenantId: string, mode: Mode, id: string): Promise<WebhookRow | undefined> {
  return db
    .select()
    .from(webhooks)
    .where(and(liveWebhook(tenantId, mode), eq(webhooks.id, id)))
    .get();
}

export async function countWebhooks(db: Db, tenantId: string, mode: Mode): Promise<number> {
  const row = await db.select({ n: count() }).from(webhooks).where(countedWebhooks(tenantId, mode)).get();
  return row?.n ?? 0;
}

export async function listWebhooks(db: Db, tenantId: string, mode: Mode, limit: number, after?: Cursor): Promise<Page<WebhookRow>> {
  const rows = await db
    .select()
    .from(webhooks)
    .where(and(liveWebhook(tenantId, mode), afterCursor(webhooks.createdAt, webhooks.id, after)))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (w) => ({ t: w.createdAt.getTime(), id: w.id }));
}

/**
 * Subscriptions that may receive events of `tenantId` in `mode`: the
 * tenant's own of that mode, and the operator's endpoints that cover the
 * tenant (`tenantIds` null: every tenant) and the mode (`modes` null: live
 * only); enabled, or disabled by their breaker (their deliveries
 * are created held until it heals). One switched off by its owner or by a
 * 410 receives nothing new. Which of them a given event reaches is decided
 * by their event types and filters.
 */
export async function subscribersOf(db: Db, tenantId: string, mode: Mode): Promise<WebhookRow[]> {
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
  const covers = (w: WebhookRow) =>
    w.tenantId === tenantId
      ? w.mode === mode
      : (w.tenantIds === null || w.tenantIds.includes(tenantId)) && (w.modes ?? ["live"]).includes(mode);
  return rows.filter(covers);
}

export const webhookExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${webhooks} WHERE ${eq(webhooks.id, id)})`;

/** A subscription by id alone, deleted ones too: what an attempt checks before it sends. */
export async function webhookById(db: Db, id: string): Promise<WebhookRow | undefined> {
  return db.select().from(webhooks).where(eq(webhooks.id, id)).get();
}
