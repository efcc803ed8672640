import { and, asc, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { type Db, insertUnderQuota } from "./client";
import { type Page, toPage } from "./cursor";
import { eventTypes } from "./schema";

export type EventTypeRow = typeof eventTypes.$inferSelect;
export type EventTypePatch = Partial<Pick<EventTypeRow, "description" | "schema" | "deprecated" | "archivedAt">>;

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

/** By name; the cursor's `id` is the last name of the previous page (names are unique). */
export async function listEventTypes(
  db: Db,
  tenantId: string,
  limit: number,
  opts: { afterName?: string; includeArchived: boolean },
): Promise<Page<EventTypeRow>> {
  const rows = await db
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
  return toPage(rows, limit, (t) => ({ t: 0, id: t.name }));
}

/**
 * Creates a type, or brings back an archived one of the same name, unless
 * the tenant already has `quota` live types. One statement, so concurrent
 * creates cannot overshoot. Changes nothing when a live type of that name
 * exists or the quota is full (the caller tells which).
 */
export function upsertEventTypeUnderQuota(db: Db, row: EventTypeRow, quota: number) {
  const excluded = (column: { name: string }) => sql.raw(`excluded."${column.name}"`);
  return insertUnderQuota(
    db,
    eventTypes,
    row,
    and(eq(eventTypes.tenantId, row.tenantId), isNull(eventTypes.archivedAt)),
    quota,
  ).onConflictDoUpdate({
    target: [eventTypes.tenantId, eventTypes.name],
    set: {
      description: excluded(eventTypes.description),
      schema: excluded(eventTypes.schema),
      deprecated: excluded(eventTypes.deprecated),
      archivedAt: null,
      updatedAt: excluded(eventTypes.updatedAt),
    },
    setWhere: isNotNull(eventTypes.archivedAt),
  });
}

/** The type was just written by the upsert above (its `updatedAt` is ours): the condition for its audit row. */
export const eventTypeWritten = (row: EventTypeRow) =>
  sql`EXISTS (SELECT 1 FROM ${eventTypes} WHERE ${ofTenant(row.tenantId, row.name)} AND ${eq(eventTypes.updatedAt, row.updatedAt)})`;

export function updateEventType(db: Db, tenantId: string, name: string, set: EventTypePatch & { updatedAt: Date }) {
  return db.update(eventTypes).set(set).where(ofTenant(tenantId, name));
}
