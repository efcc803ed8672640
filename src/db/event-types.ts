import { and, asc, eq, gt, inArray, isNotNull, isNull, ne, type SQL, sql } from "drizzle-orm";
import { isOperator, OPERATOR_ID } from "../tenants/operator";
import { type Db, insertUnderQuota } from "./client";
import { type Page, toPage } from "./cursor";
import { eventTypes } from "./schema";

export type EventTypeRow = typeof eventTypes.$inferSelect;
export type EventTypePatch = Partial<Pick<EventTypeRow, "description" | "schema" | "deprecated" | "archivedAt">>;

const ofTenant = (tenantId: string, name: string) => and(eq(eventTypes.tenantId, tenantId), eq(eventTypes.name, name));

/** The owners whose types `ownerId` sees: its own and the operator's (the operator sees only its own). */
export const catalogOwners = (ownerId: string): string[] => (isOperator(ownerId) ? [OPERATOR_ID] : [ownerId, OPERATOR_ID]);

/** Includes archived types: their history stays readable. */
export async function getEventType(db: Db, tenantId: string, name: string): Promise<EventTypeRow | undefined> {
  return db.select().from(eventTypes).where(ofTenant(tenantId, name)).get();
}

/** A type `ownerId` sees (its own or the operator's), archived ones included. Names never collide across owners. */
export async function getVisibleEventType(db: Db, ownerId: string, name: string): Promise<EventTypeRow | undefined> {
  return db
    .select()
    .from(eventTypes)
    .where(and(inArray(eventTypes.tenantId, catalogOwners(ownerId)), eq(eventTypes.name, name)))
    .get();
}

/** Live (not archived) types of `owners`, by name. */
export async function liveEventTypes(db: Db, owners: string[]): Promise<EventTypeRow[]> {
  return db
    .select()
    .from(eventTypes)
    .where(and(inArray(eventTypes.tenantId, owners), isNull(eventTypes.archivedAt)))
    .orderBy(asc(eventTypes.name))
    .all();
}

/**
 * Which of `names` are live types of any owner, or, with `owners`, of one of
 * them. The lists travel as one JSON parameter each (D1 binds at most 100).
 */
export async function liveNamesAmong(db: Db, names: string[], owners: string[] | null): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ name: eventTypes.name })
    .from(eventTypes)
    .where(
      and(
        sql`${eventTypes.name} IN (SELECT value FROM json_each(${JSON.stringify(names)}))`,
        isNull(eventTypes.archivedAt),
        owners ? sql`${eventTypes.tenantId} IN (SELECT value FROM json_each(${JSON.stringify(owners)}))` : undefined,
      ),
    )
    .all();
  return new Set(rows.map((r) => r.name));
}

/** By name across `owners` (names are unique among them); the cursor's `id` is the last name of the previous page. */
export async function listEventTypes(
  db: Db,
  owners: string[],
  limit: number,
  opts: { afterName?: string; includeArchived: boolean },
): Promise<Page<EventTypeRow>> {
  const rows = await db
    .select()
    .from(eventTypes)
    .where(
      and(
        inArray(eventTypes.tenantId, owners),
        opts.includeArchived ? undefined : isNull(eventTypes.archivedAt),
        opts.afterName ? gt(eventTypes.name, opts.afterName) : undefined,
      ),
    )
    .orderBy(asc(eventTypes.name))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (t) => ({ t: 0, id: t.name }));
}

/** The other side of the line names never cross: the operator's types for a tenant, every tenant's for the operator. */
const acrossFrom = (ownerId: string) => (isOperator(ownerId) ? ne(eventTypes.tenantId, OPERATOR_ID) : eq(eventTypes.tenantId, OPERATOR_ID));

/**
 * A type of the other side holds `name`, archived or not. Names never cross
 * that line, so a tenant's catalog merged with the operator's stays unique
 * by name.
 */
export const nameTakenAcross = (ownerId: string, name: string): SQL =>
  sql`EXISTS (SELECT 1 FROM ${eventTypes} WHERE ${and(eq(eventTypes.name, name), acrossFrom(ownerId))})`;

export async function isNameTakenAcross(db: Db, ownerId: string, name: string): Promise<boolean> {
  const row = await db
    .select({ name: eventTypes.name })
    .from(eventTypes)
    .where(and(eq(eventTypes.name, name), acrossFrom(ownerId)))
    .limit(1)
    .get();
  return row !== undefined;
}

/**
 * Creates a type, or brings back an archived one of the same name, unless
 * the owner already has `quota` live types or the other side holds the
 * name. One statement, so concurrent creates cannot overshoot nor collide.
 * Changes nothing when a live type of that name exists, the name is taken
 * across, or the quota is full (the caller tells which).
 */
export function upsertEventTypeUnderQuota(db: Db, row: EventTypeRow, quota: number) {
  const excluded = (column: { name: string }) => sql.raw(`excluded."${column.name}"`);
  return insertUnderQuota(
    db,
    eventTypes,
    row,
    and(eq(eventTypes.tenantId, row.tenantId), isNull(eventTypes.archivedAt)),
    quota,
    sql`NOT ${nameTakenAcross(row.tenantId, row.name)}`,
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
