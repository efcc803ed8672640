import { and, asc, eq, gt, gte, lt } from "drizzle-orm";
import type { Db } from "./client";
import { deliveries, events } from "./schema";

export type EventRow = typeof events.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;

export async function getEvent(db: Db, tenantId: string, id: string): Promise<EventRow | undefined> {
  return db.select().from(events).where(and(eq(events.tenantId, tenantId), eq(events.id, id))).get();
}

export async function deliveriesOfEvent(db: Db, tenantId: string, eventId: string): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(deliveries)
    .where(and(eq(deliveries.tenantId, tenantId), eq(deliveries.eventId, eventId)))
    .orderBy(asc(deliveries.createdAt), asc(deliveries.id))
    .all();
}

/** Events in commit order after `afterSeq`, filtered by type and time. */
export async function listEvents(
  db: Db,
  tenantId: string,
  limit: number,
  filter: { type?: string; since?: Date; until?: Date; afterSeq?: number },
): Promise<EventRow[]> {
  return db
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
}

/**
 * Deletes up to `batch` events created before `cutoff`, with their
 * deliveries and attempts; returns how many events went. Bounded so one cron
 * run never holds the database for long. The batch is chosen by a subquery
 * rather than a bound list of ids: D1 allows at most 100 bound parameters
 * per statement. The three deletes run in one transaction, and the events
 * table is only touched by the last, so all three see the same batch.
 */
export async function purgeEventsBefore(d1: D1Database, cutoff: Date, batch: number): Promise<number> {
  const expired = "SELECT id FROM events WHERE created_at < ?1 ORDER BY created_at, seq LIMIT ?2";
  const [, , events] = await d1.batch([
    d1
      .prepare(`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN (${expired}))`)
      .bind(cutoff.getTime(), batch),
    d1.prepare(`DELETE FROM deliveries WHERE event_id IN (${expired})`).bind(cutoff.getTime(), batch),
    d1.prepare(`DELETE FROM events WHERE id IN (${expired})`).bind(cutoff.getTime(), batch),
  ]);
  return events?.meta.changes ?? 0;
}

/** Test sends belong to no delivery (and so to no event): their log rows age out on their own. */
export async function purgeTestAttemptsBefore(d1: D1Database, cutoff: Date, batch: number): Promise<number> {
  const res = await d1
    .prepare(
      "DELETE FROM delivery_attempts WHERE rowid IN " +
        "(SELECT rowid FROM delivery_attempts WHERE delivery_id IS NULL AND at < ? LIMIT ?)",
    )
    .bind(cutoff.getTime(), batch)
    .run();
  return res.meta.changes;
}

/** Drops idempotency records older than `cutoff` (they only matter for 24 h). */
export async function purgeIdempotencyBefore(d1: D1Database, cutoff: Date, batch: number): Promise<number> {
  const res = await d1
    .prepare(
      "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)",
    )
    .bind(cutoff.getTime(), batch)
    .run();
  return res.meta.changes;
}

