import { and, asc, desc, eq, getTableColumns, gt, gte, inArray, lt, lte, sql } from "drizzle-orm";
import { type Db, insertWhere } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { type EventRow, eventExists } from "./events";
import { type DeliveryStatus, deliveries, deliveryAttempts, events, webhooks } from "./schema";

export type DeliveryRow = typeof deliveries.$inferSelect;
/** A delivery as listed: with the tenant whose event it carries (the owner's own, except on an operator endpoint). */
export type DeliveryView = DeliveryRow & { eventTenantId: string; lastDurationMs: number | null };
export type AttemptRow = typeof deliveryAttempts.$inferSelect;

/** Inserts a pending delivery only if its event was stored (in the same batch, after the event). */
export function insertDeliveryIf(db: Db, row: DeliveryRow, event: Pick<EventRow, "id">) {
  return insertWhere(db, deliveries, row, eventExists(event.id));
}

export async function deliveriesOfEvent(db: Db, tenantId: string, eventId: string): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.eventId, eventId)))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id))
    .all();
}

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

export type DeliverySettle = { status: DeliveryStatus; lastStatusCode?: number | null; nextAttemptAt?: Date | null };

/**
 * The statement that records an attempt's outcome. With `onlyIfPending`, a
 * delivery cancelled while the attempt was in flight (its subscription
 * disabled or deleted) stays cancelled.
 */
export function settleStatement(db: Db, id: string, set: DeliverySettle, opts: { onlyIfPending?: boolean } = {}) {
  return db
    .update(deliveries)
    .set({ ...set, updatedAt: new Date() })
    .where(opts.onlyIfPending ? and(eq(deliveries.id, id), eq(deliveries.status, "pending")) : eq(deliveries.id, id));
}

/** Records an attempt's outcome now; returns whether the row was updated. */
export async function settleDelivery(db: Db, id: string, set: DeliverySettle, opts: { onlyIfPending?: boolean } = {}): Promise<boolean> {
  return (await settleStatement(db, id, set, opts).run()).meta.changes === 1;
}

/** Marks a delivery failed or cancelled only if it is still pending (DLQ, cancellation races). */
export async function settleIfPending(db: Db, id: string, status: DeliveryStatus): Promise<boolean> {
  return settleDelivery(db, id, { status, nextAttemptAt: null }, { onlyIfPending: true });
}

export function insertAttempt(db: Db, row: AttemptRow) {
  return db.insert(deliveryAttempts).values(row);
}

/** Cancels every pending delivery of a subscription (disabled or deleted). */
export function cancelPendingOf(db: Db, webhookId: string, now = new Date()) {
  return db
    .update(deliveries)
    .set({ status: "cancelled", nextAttemptAt: null, updatedAt: now })
    .where(and(eq(deliveries.webhookId, webhookId), eq(deliveries.status, "pending")));
}

export type DeliveryFilter = {
  webhookId?: string;
  /** The tenant whose events they carry (for the operator's deliveries). */
  tenantId?: string;
  eventId?: string;
  eventType?: string;
  status?: DeliveryStatus;
  since?: Date;
  until?: Date;
};

// A delivery is stored only with its event, and retention drops both at once: the join always finds it.
// The last attempt's duration comes from the attempts index (delivery id, attempt), one row per delivery listed.
const withEventTenant = {
  ...getTableColumns(deliveries),
  eventTenantId: events.tenantId,
  lastDurationMs: sql<
    number | null
  >`(SELECT ${deliveryAttempts.durationMs} FROM ${deliveryAttempts} WHERE ${deliveryAttempts.deliveryId} = ${deliveries.id} ORDER BY ${deliveryAttempts.attempt} DESC LIMIT 1)`,
};

/** Newest first, deliveries owned by `tenantId` (the operator's: of its endpoints). */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  limit: number,
  f: DeliveryFilter,
  after?: Cursor,
): Promise<Page<DeliveryView>> {
  const rows = await db
    .select(withEventTenant)
    .from(deliveries)
    .innerJoin(events, eq(events.id, deliveries.eventId))
    .where(
      and(
        eq(deliveries.tenantId, tenantId),
        f.tenantId ? eq(events.tenantId, f.tenantId) : undefined,
        f.webhookId ? eq(deliveries.webhookId, f.webhookId) : undefined,
        f.eventId ? eq(deliveries.eventId, f.eventId) : undefined,
        f.eventType ? eq(deliveries.eventType, f.eventType) : undefined,
        f.status ? eq(deliveries.status, f.status) : undefined,
        f.since ? gte(deliveries.createdAt, f.since) : undefined,
        f.until ? lt(deliveries.createdAt, f.until) : undefined,
        afterCursor(deliveries.createdAt, deliveries.id, after, "desc"),
      ),
    )
    .orderBy(desc(deliveries.createdAt), desc(deliveries.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (d) => ({ t: d.createdAt.getTime(), id: d.id }));
}

export async function getDelivery(db: Db, tenantId: string, id: string): Promise<DeliveryView | undefined> {
  return db
    .select(withEventTenant)
    .from(deliveries)
    .innerJoin(events, eq(events.id, deliveries.eventId))
    .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.id, id)))
    .get();
}

export async function attemptsOf(db: Db, deliveryId: string): Promise<AttemptRow[]> {
  return db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, deliveryId)).orderBy(asc(deliveryAttempts.attempt)).all();
}

// D1 binds at most 100 parameters per statement: long id lists go in slices.
const MAX_IDS_PER_STATEMENT = 90;

function chunks<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += MAX_IDS_PER_STATEMENT) out.push(list.slice(i, i + MAX_IDS_PER_STATEMENT));
  return out;
}

/** Puts deliveries back to pending, due now, for one more attempt each. */
export function reopenDeliveries(db: Db, ids: string[], now = new Date()) {
  return chunks(ids).map((chunk) =>
    db.update(deliveries).set({ status: "pending", nextAttemptAt: now, updatedAt: now }).where(inArray(deliveries.id, chunk)),
  );
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
    .select({ id: deliveries.id, attempts: deliveries.attempts, nextAttemptAt: deliveries.nextAttemptAt })
    .from(deliveries)
    .where(and(eq(deliveries.status, "pending"), lt(deliveries.nextAttemptAt, dueBefore)))
    .orderBy(asc(deliveries.nextAttemptAt))
    .limit(limit)
    .all();
}

/**
 * Moves an overdue delivery's due time to `due`, only if it is still the row
 * the sweep read: same attempt count and its due time (or lease) already
 * past. An attempt claimed since then has a fresh lease and is left alone.
 */
export async function bumpIfStillOverdue(db: Db, row: { id: string; attempts: number }, dueBefore: Date, due: Date): Promise<boolean> {
  const res = await db
    .update(deliveries)
    .set({ nextAttemptAt: due })
    .where(
      and(
        eq(deliveries.id, row.id),
        eq(deliveries.status, "pending"),
        eq(deliveries.attempts, row.attempts),
        lte(deliveries.nextAttemptAt, dueBefore),
      ),
    )
    .run();
  return res.meta.changes === 1;
}

/** Attempts of one subscription in the window, for stats (test sends excluded). */
export async function recentAttempts(db: Db, webhookId: string, since: Date) {
  return db
    .select({
      statusCode: deliveryAttempts.statusCode,
      error: deliveryAttempts.error,
      durationMs: deliveryAttempts.durationMs,
      at: deliveryAttempts.at,
    })
    .from(deliveryAttempts)
    .where(and(eq(deliveryAttempts.webhookId, webhookId), gt(deliveryAttempts.at, since), eq(deliveryAttempts.isTest, false)))
    .all();
}
