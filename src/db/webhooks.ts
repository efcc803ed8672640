import { and, asc, count, eq, gt, inArray, isNull, or } from "drizzle-orm";
import type { Cursor } from "../http/pagination";
import { insertUnderQuota, type Db } from "./client";
import { deliveries, webhooks } from "./schema";

export type WebhookRow = typeof webhooks.$inferSelect;

const live = (tenantId: string) => and(eq(webhooks.tenantId, tenantId), isNull(webhooks.deletedAt));

export async function getWebhook(db: Db, tenantId: string, id: string): Promise<WebhookRow | undefined> {
  return db.select().from(webhooks).where(and(live(tenantId), eq(webhooks.id, id))).get();
}

export async function countWebhooks(db: Db, tenantId: string): Promise<number> {
  const row = await db.select({ n: count() }).from(webhooks).where(live(tenantId)).get();
  return row?.n ?? 0;
}

export async function listWebhooks(db: Db, tenantId: string, limit: number, after?: Cursor): Promise<WebhookRow[]> {
  const position = after
    ? or(gt(webhooks.createdAt, new Date(after.t)), and(eq(webhooks.createdAt, new Date(after.t)), gt(webhooks.id, after.id)))
    : undefined;
  return db
    .select()
    .from(webhooks)
    .where(and(live(tenantId), position))
    .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
    .limit(limit + 1)
    .all();
}

/** Enabled subscriptions whose `eventTypes` include `type` or `*`. */
export async function subscribersOf(db: Db, tenantId: string, type: string): Promise<WebhookRow[]> {
  const rows = await db
    .select()
    .from(webhooks)
    .where(and(live(tenantId), eq(webhooks.isEnabled, true)))
    .all();
  return rows.filter((w) => w.eventTypes.includes("*") || w.eventTypes.includes(type));
}

export async function insertWebhookUnderQuota(d1: D1Database, row: WebhookRow, quota: number): Promise<boolean> {
  return insertUnderQuota(
    d1,
    "webhooks",
    {
      id: row.id,
      tenant_id: row.tenantId,
      url: row.url,
      description: row.description,
      event_types: row.eventTypes,
      is_enabled: row.isEnabled,
      disabled_reason: row.disabledReason,
      format: row.format,
      headers: row.headers,
      custom_fields: row.customFields,
      secret_enc: row.secretEnc,
      secret_last4: row.secretLast4,
      previous_secret_enc: null,
      previous_secret_expires_at: null,
      managed_by: row.managedBy,
      created_at: row.createdAt,
      updated_at: row.updatedAt,
      deleted_at: null,
    },
    "tenant_id = ? AND deleted_at IS NULL",
    [row.tenantId],
    quota,
  );
}

export type WebhookPatch = Partial<
  Pick<
    WebhookRow,
    | "url"
    | "description"
    | "eventTypes"
    | "isEnabled"
    | "disabledReason"
    | "format"
    | "headers"
    | "customFields"
    | "managedBy"
    | "secretEnc"
    | "secretLast4"
    | "previousSecretEnc"
    | "previousSecretExpiresAt"
  >
>;

export async function updateWebhook(db: Db, tenantId: string, id: string, set: WebhookPatch, now = new Date()): Promise<void> {
  await db
    .update(webhooks)
    .set({ ...set, updatedAt: now })
    .where(and(live(tenantId), eq(webhooks.id, id)))
    .run();
}

/** Soft-deletes the subscription and cancels its pending deliveries, in one transaction. */
export async function deleteWebhook(db: Db, tenantId: string, id: string): Promise<void> {
  const now = new Date();
  await db.batch([
    db.update(webhooks).set({ deletedAt: now, isEnabled: false, updatedAt: now }).where(and(live(tenantId), eq(webhooks.id, id))),
    db
      .update(deliveries)
      .set({ status: "cancelled", updatedAt: now, nextAttemptAt: null })
      .where(and(eq(deliveries.webhookId, id), inArray(deliveries.status, ["pending"]))),
  ]);
}
