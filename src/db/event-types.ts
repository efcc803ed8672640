import { and, asc, eq, gt, isNull } from "drizzle-orm";
import { type Db } from "./client";
import { eventTypes } from "./schema";

export type EventTypeRow = typeof eventTypes.$inferSelect;

const ofTenant = (tenantId: string, name: string) => and(eq(eventTypes.tenantId, tenantId), eq(eventTypes.name, name));

/** Includes archived types: their history stays readable. */
export async function getEventType(db: Db, tenantId: string, name: string): Promise<EventTypeRow | undefined> {
  return db.select().from(eventTypes).where(ofTenant(tenantId, name)).get();
}

/** Live (not archived) types, by name: the catalog a publish is checked against. */
export async function liveEventTypes(db: Db, tenantId: string): Promise<EventTypeRow[]> {
  return db
    .select()
    .from(eventTypes)
    .where(and(eq(eventTypes.tenantId, tenantId), isNull(eventTypes.archivedAt)))
    .orderBy(asc(eventTypes.name))
    .all();
}

export async function listEventTypes(
  db: Db,
  tenantId: string,
  limit: number,
  opts: { afterName?: string; includeArchived: boolean },
): Promise<EventTypeRow[]> {
  return db
    .select()
    .from(eventTypes)
    .where(
      and(
        eq(eventTypes.tenantId, tenantId),
        opts.includeArchived ? undefined : isNull(eventTypes.archivedAt),
        opts.afterName ? gt(eventTypes.name, opts.afterName) : undefined,
      ),
    )
    .orderBy(asc(eventTypes.name))
    .limit(limit + 1)
    .all();
}

/**
 * Creates a type, or brings back an archived one of the same name, unless
 * the tenant already has `quota` live types. One statement, so concurrent
 * creates cannot overshoot. Returns false when a live type of that name
 * exists or the quota is full (the caller tells which).
 */
export async function upsertEventTypeUnderQuota(d1: D1Database, row: EventTypeRow, quota: number): Promise<boolean> {
  const result = await d1
    .prepare(
      `INSERT INTO event_types (tenant_id, name, description, schema, deprecated, archived_at, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, NULL, ?6, ?6
       WHERE (SELECT count(*) FROM event_types WHERE tenant_id = ?1 AND archived_at IS NULL) < ?7
       ON CONFLICT (tenant_id, name) DO UPDATE SET
         description = excluded.description, schema = excluded.schema, deprecated = excluded.deprecated,
         archived_at = NULL, updated_at = excluded.updated_at
       WHERE event_types.archived_at IS NOT NULL`,
    )
    .bind(
      row.tenantId,
      row.name,
      row.description,
      row.schema ? JSON.stringify(row.schema) : null,
      row.deprecated ? 1 : 0,
      row.createdAt.getTime(),
      quota,
    )
    .run();
  return result.meta.changes === 1;
}

export async function updateEventType(
  db: Db,
  tenantId: string,
  name: string,
  set: Partial<Pick<EventTypeRow, "description" | "schema" | "deprecated" | "archivedAt">>,
  now = new Date(),
): Promise<void> {
  await db
    .update(eventTypes)
    .set({ ...set, updatedAt: now })
    .where(ofTenant(tenantId, name))
    .run();
}
