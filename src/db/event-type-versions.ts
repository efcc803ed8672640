import { and, asc, eq, inArray, isNotNull, isNull, max, or, sql } from "drizzle-orm";
import { isOperator } from "../tenants/operator";
import { type Db, insertWhere } from "./client";
import { catalogOwners } from "./event-types";
import { eventTypes, eventTypeVersions } from "./schema";

export type TypeVersionRow = typeof eventTypeVersions.$inferSelect;

/** A type's versions, oldest first: the versions of `typeName` that `ownerId` sees (its own type's or the operator's). */
export async function versionsOfType(db: Db, ownerId: string, typeName: string): Promise<TypeVersionRow[]> {
  return db
    .select()
    .from(eventTypeVersions)
    .where(and(inArray(eventTypeVersions.tenantId, catalogOwners(ownerId)), eq(eventTypeVersions.typeName, typeName)))
    .orderBy(asc(eventTypeVersions.version))
    .all();
}

/** The versions of several types of the given owners (a page of the catalog), oldest first within each type. */
export async function versionsOfTypes(db: Db, types: { tenantId: string; name: string }[]): Promise<TypeVersionRow[]> {
  if (types.length === 0) return [];
  const owners = [...new Set(types.map((t) => t.tenantId))];
  const names = [...new Set(types.map((t) => t.name))];
  return db
    .select()
    .from(eventTypeVersions)
    .where(
      and(
        sql`${eventTypeVersions.tenantId} IN (SELECT value FROM json_each(${JSON.stringify(owners)}))`,
        sql`${eventTypeVersions.typeName} IN (SELECT value FROM json_each(${JSON.stringify(names)}))`,
      ),
    )
    .orderBy(asc(eventTypeVersions.typeName), asc(eventTypeVersions.version))
    .all();
}

/**
 * Adds `row` as the type's newest version, unless a version at or after its
 * date exists (one statement: of two concurrent adds, at most one of a date
 * wins, and none can slip in under a newer one). `changes` tells.
 */
export function insertNewestVersion(db: Db, row: TypeVersionRow) {
  return insertWhere(
    db,
    eventTypeVersions,
    row,
    sql`NOT EXISTS (SELECT 1 FROM ${eventTypeVersions} WHERE ${and(
      eq(eventTypeVersions.tenantId, row.tenantId),
      eq(eventTypeVersions.typeName, row.typeName),
      sql`${eventTypeVersions.version} >= ${row.version}`,
    )})`,
  );
}

/** `row` was just written by insertNewestVersion (its createdAt is ours): the condition for what goes with it. */
export const versionWritten = (row: TypeVersionRow) =>
  sql`EXISTS (SELECT 1 FROM ${eventTypeVersions} WHERE ${and(
    eq(eventTypeVersions.tenantId, row.tenantId),
    eq(eventTypeVersions.typeName, row.typeName),
    eq(eventTypeVersions.version, row.version),
    eq(eventTypeVersions.createdAt, row.createdAt),
  )})`;

/** The type now publishes `row`'s version and its schema: only when that version was just added (so a lost race changes nothing). */
export function adoptNewestVersion(db: Db, row: TypeVersionRow, schema: Record<string, unknown> | null, updatedAt: Date) {
  return db
    .update(eventTypes)
    .set({ latestVersion: row.version, schema, updatedAt })
    .where(
      and(
        eq(eventTypes.tenantId, row.tenantId),
        eq(eventTypes.name, row.typeName),
        or(isNull(eventTypes.latestVersion), sql`${eventTypes.latestVersion} < ${row.version}`),
        versionWritten(row),
      ),
    );
}

/** A PATCH of a versioned type's schema is its newest version's schema too. */
export function setNewestVersionSchema(
  db: Db,
  tenantId: string,
  typeName: string,
  version: string,
  schema: Record<string, unknown> | null,
) {
  return db
    .update(eventTypeVersions)
    .set({ schema })
    .where(and(eq(eventTypeVersions.tenantId, tenantId), eq(eventTypeVersions.typeName, typeName), eq(eventTypeVersions.version, version)));
}

/**
 * The newest version among `names` of the types `ownerId` sees (every type it
 * sees for "*"): a new subscription's default pin. Null when none has versions.
 * The operator's endpoints may receive any tenant's types: every owner counts.
 */
export async function newestVersionAmong(db: Db, ownerId: string, names: string[]): Promise<string | null> {
  const all = names.includes("*");
  const row = await db
    .select({ newest: max(eventTypes.latestVersion) })
    .from(eventTypes)
    .where(
      and(
        isOperator(ownerId) ? undefined : inArray(eventTypes.tenantId, catalogOwners(ownerId)),
        isNotNull(eventTypes.latestVersion),
        all ? undefined : sql`${eventTypes.name} IN (SELECT value FROM json_each(${JSON.stringify(names)}))`,
      ),
    )
    .get();
  return row?.newest ?? null;
}
