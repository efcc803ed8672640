import { and, asc, desc, eq, gt, gte, inArray, lt, or } from "drizzle-orm";
import type { Cursor } from "../http/pagination";
import type { Db } from "./client";
import { deliveries, deliveryAttempts, events, webhooks, type DeliveryStatus } from "./schema";

export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

/** Everything one attempt needs, in one read; webhook or event may be gone. */
export async function loadForAttempt(db: Db, deliveryId: string) {
  return db
    .select({ delivery: deliveries, webhook: webhooks, event: events })
    .from(deliveries)
    .leftJoin(webhooks, eq(webhooks.id, deliveries.webhookId))
    .leftJoin(events, eq(events.id, deliveries.eventId))
    .where(eq(deliveries.id, deliveryId))
    .get();
}

/**
 * Takes the delivery for attempt `attempts + 1`, only if nobody else has: a
 * duplicate message (the sweep's or the queue's) loses and sends nothing.
 * `leaseUntil` keeps the sweep off it while the attempt is in flight.
 */
export async function claimAttempt(db: Db, id: string, attemptsSoFar: number, now: Date, leaseUntil: Date): Promise<boolean> {
  const res = await db
    .update(deliveries)
    .set({ attempts: attemptsSoFar + 1, lastAttemptAt: now, nextAttemptAt: leaseUntil, updatedAt: now })
    .where(and(eq(deliveries.id, id), eq(deliveries.status, "pending"), eq(deliveries.attempts, attemptsSoFar)))
    .run();
  return res.meta.changes === 1;
}

/**
 * Records an attempt's outcome. With `onlyIfPending`, a delivery cancelled
 * while the attempt was in flight (its subscription disabled or deleted)
 * stays cancelled; returns whether the row was updated.
 */
export async function settleDelivery(
  db: Db,
  id: string,
  set: { status: DeliveryStatus; lastStatusCode?: number | null; nextAttemptAt?: Date | null },
  opts: { onlyIfPending?: boolean } = {},
): Promise<boolean> {
  const res = await db
    .update(deliveries)
    .set({ ...set, updatedAt: new Date() })
    .where(opts.onlyIfPending ? and(eq(deliveries.id, id), eq(deliveries.status, "pending")) : eq(deliveries.id, id))
    .run();
  return res.meta.changes === 1;
}

/** Marks a delivery failed or cancelled only if it is still pending (DLQ, cancellation races). */
export async function settleIfPending(db: Db, id: string, status: DeliveryStatus): Promise<boolean> {
  const res = await db
    .update(deliveries)
    .set({ status, nextAttemptAt: null, updatedAt: new Date() })
    .where(and(eq(deliveries.id, id), eq(deliveries.status, "pending")))
    .run();
  return res.meta.changes === 1;
}

export async function insertAttempt(db: Db, row: AttemptRow): Promise<void> {
  await db.insert(deliveryAttempts).values(row).run();
}

/** Disables a subscription and cancels its pending deliveries, in one transaction. */
export async function disableWebhook(db: Db, webhookId: string, reason: "gone" | "circuit_breaker"): Promise<void> {
  const now = new Date();
  await db.batch([
    db.update(webhooks).set({ isEnabled: false, disabledReason: reason, updatedAt: now }).where(eq(webhooks.id, webhookId)),
    db
      .update(deliveries)
      .set({ status: "cancelled", nextAttemptAt: null, updatedAt: now })
      .where(and(eq(deliveries.webhookId, webhookId), eq(deliveries.status, "pending"))),
  ]);
}

export type DeliveryFilter = {
  webhookId?: string;
  eventId?: string;
  eventType?: string;
  status?: DeliveryStatus;
  since?: Date;
  until?: Date;
};

/** Newest first. */
export async function listDeliveries(db: Db, tenantId: string, limit: number, f: DeliveryFilter, after?: Cursor) {
  const position = after
    ? or(lt(deliveries.createdAt, new Date(after.t)), and(eq(deliveries.createdAt, new Date(after.t)), lt(deliveries.id, after.id)))
    : undefined;
  return db
    .select()
    .from(deliveries)
    .where(
      and(
        eq(deliveries.tenantId, tenantId),
        f.webhookId ? eq(deliveries.webhookId, f.webhookId) : undefined,
        f.eventId ? eq(deliveries.eventId, f.eventId) : undefined,
        f.eventType ? eq(deliveries.eventType, f.eventType) : undefined,
        f.status ? eq(deliveries.status, f.status) : undefined,
        f.since ? gte(deliveries.createdAt, f.since) : undefined,
        f.until ? lt(deliveries.createdAt, f.until) : undefined,
        position,
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit + 1)
    .all();
}

export async function getDelivery(db: Db, tenantId: string, id: string): Promise<DeliveryRow | undefined> {
  return db.select().from(deliveries).where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.id, id))).get();
}

export async function attemptsOf(db: Db, deliveryId: string): Promise<AttemptRow[]> {
  return db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, deliveryId)).orderBy(asc(deliveryAttempts.attempt)).all();
}

/** Puts deliveries back to pending, due now, for one more attempt each. */
export async function reopenDeliveries(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const now = new Date();
  for (const chunk of chunks(ids)) {
    await db
      .update(deliveries)
      .set({ status: "pending", nextAttemptAt: now, updatedAt: now })
      .where(inArray(deliveries.id, chunk))
      .run();
  }
}

// D1 binds at most 100 parameters per statement: long id lists go in slices.
const MAX_IDS_PER_STATEMENT = 90;

function chunks<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += MAX_IDS_PER_STATEMENT) out.push(list.slice(i, i + MAX_IDS_PER_STATEMENT));
  return out;
}

export async function failedDeliveriesSince(db: Db, tenantId: string, webhookId: string, since: Date, limit: number) {
  return db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.tenantId, tenantId),
        eq(deliveries.webhookId, webhookId),
        eq(deliveries.status, "failed"),
        gte(deliveries.createdAt, since),
      ),
    )
    .orderBy(asc(deliveries.createdAt))
    .limit(limit)
    .all();
}

/** Pending deliveries long past due: their queue message was lost (or never sent). */
export async function overdueDeliveries(db: Db, dueBefore: Date, limit: number) {
  return db
    .select({ id: deliveries.id, attempts: deliveries.attempts })
    .from(deliveries)
    .where(and(eq(deliveries.status, "pending"), lt(deliveries.nextAttemptAt, dueBefore)))
    .orderBy(asc(deliveries.nextAttemptAt))
    .limit(limit)
    .all();
}

export async function bumpDue(db: Db, ids: string[], due: Date): Promise<void> {
  if (ids.length === 0) return;
  for (const chunk of chunks(ids)) {
    await db.update(deliveries).set({ nextAttemptAt: due }).where(inArray(deliveries.id, chunk)).run();
  }
}

/** Attempts of one subscription in the window, for stats (test sends excluded). */
export async function recentAttempts(db: Db, webhookId: string, since: Date) {
  return db
    .select({ statusCode: deliveryAttempts.statusCode, error: deliveryAttempts.error, durationMs: deliveryAttempts.durationMs })
    .from(deliveryAttempts)
    .where(and(eq(deliveryAttempts.webhookId, webhookId), gt(deliveryAttempts.at, since), eq(deliveryAttempts.isTest, false)))
    .all();
}

