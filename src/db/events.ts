import { and, asc, eq, gt, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import { type Db, insertWhere } from "./client";
import { type Page, toPage } from "./cursor";
import { deliveries, deliveryAttempts, events, idempotencyKeys } from "./schema";

export type EventRow = typeof events.$inferSelect;
export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

export async function getEvent(db: Db, tenantId: string, id: string): Promise<EventRow | undefined> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), eq(events.id, id)))
    .get();
}

/**
 * Events in commit order after `afterSeq`, filtered by type and time. The
 * page position is the commit sequence (`t`) of the last event.
 */
export async function listEvents(
  db: Db,
  tenantId: string,
  limit: number,
  filter: { type?: string; since?: Date; until?: Date; afterSeq?: number },
): Promise<Page<EventRow>> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.tenantId, tenantId),
        filter.type ? eq(events.type, filter.type) : undefined,
        filter.since ? gte(events.createdAt, filter.since) : undefined,
        filter.until ? lt(events.createdAt, filter.until) : undefined,
        filter.afterSeq !== undefined ? gt(events.seq, filter.afterSeq) : undefined,
      ),
    )
    .orderBy(asc(events.seq))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (e) => ({ t: e.seq, id: e.id }));
}

/** Claims an idempotency key for `row.eventId`, or takes over a claim older than `staleBefore`. */
export function claimIdempotencyKey(db: Db, row: IdempotencyRow, staleBefore: Date) {
  return db
    .insert(idempotencyKeys)
    .values(row)
    .onConflictDoUpdate({
      target: [idempotencyKeys.tenantId, idempotencyKeys.key],
      set: { requestHash: row.requestHash, eventId: row.eventId, createdAt: row.createdAt },
      where: lt(idempotencyKeys.createdAt, staleBefore),
    });
}

export async function getIdempotencyClaim(db: Db, tenantId: string, key: string): Promise<IdempotencyRow | undefined> {
  return db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.tenantId, tenantId), eq(idempotencyKeys.key, key)))
    .get();
}

/** The claim of `key` is held by `eventId`: the condition for storing that event. */
export const claimHeldBy = (tenantId: string, key: string, eventId: string) =>
  sql`EXISTS (SELECT 1 FROM ${idempotencyKeys} WHERE ${and(
    eq(idempotencyKeys.tenantId, tenantId),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.eventId, eventId),
  )})`;

export const eventExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${events} WHERE ${eq(events.id, id)})`;

/** Inserts the event only while `condition` holds (its idempotency claim is ours). */
export function insertEventIf(db: Db, row: Omit<EventRow, "seq">, condition: ReturnType<typeof sql>) {
  return insertWhere(db, events, row, condition);
}

/**
 * Deletes up to `batch` events created before `cutoff`, with their
 * deliveries and attempts; returns how many events went. Bounded so one
 * cron run never holds the database for long; the three deletes run in one
 * transaction and choose the same batch.
 */
export async function purgeEventsBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const expired = db
    .select({ id: events.id })
    .from(events)
    .where(lt(events.createdAt, cutoff))
    .orderBy(asc(events.createdAt), asc(events.seq))
    .limit(batch);
  const [, , purged] = await db.batch([
    db
      .delete(deliveryAttempts)
      .where(
        inArray(deliveryAttempts.deliveryId, db.select({ id: deliveries.id }).from(deliveries).where(inArray(deliveries.eventId, expired))),
      ),
    db.delete(deliveries).where(inArray(deliveries.eventId, expired)),
    db.delete(events).where(inArray(events.id, expired)),
  ]);
  return (purged as D1Result).meta.changes;
}

/** Test sends belong to no delivery (and so to no event): their log rows age out on their own. */
export async function purgeTestAttemptsBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const old = db
    .select({ id: deliveryAttempts.id })
    .from(deliveryAttempts)
    .where(and(isNull(deliveryAttempts.deliveryId), lt(deliveryAttempts.at, cutoff)))
    .limit(batch);
  const res = await db.delete(deliveryAttempts).where(inArray(deliveryAttempts.id, old)).run();
  return res.meta.changes;
}

/** Drops idempotency records older than `cutoff` (they only matter for 24 h). */
export async function purgeIdempotencyBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const old = db.select({ key: idempotencyKeys.key }).from(idempotencyKeys).where(lt(idempotencyKeys.createdAt, cutoff)).limit(batch);
  const res = await db
    .delete(idempotencyKeys)
    .where(and(lt(idempotencyKeys.createdAt, cutoff), inArray(idempotencyKeys.key, old)))
    .run();
  return res.meta.changes;
}
