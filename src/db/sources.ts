import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import { type Db, insertUnderQuota } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { sources } from "./schema";

export type SourceRow = typeof sources.$inferSelect;
export type SourcePatch = Partial<Omit<SourceRow, "id" | "tenantId" | "createdAt">>;

/** The tenant's sources of one mode, not deleted (names and the quota count within a mode). */
const live = (tenantId: string, mode: Mode) => and(eq(sources.tenantId, tenantId), eq(sources.mode, mode), isNull(sources.deletedAt));

/** By id alone, for the intake route (which learns the tenant from the source). */
export async function findSourceById(db: Db, id: string): Promise<SourceRow | undefined> {
  return db.select().from(sources).where(eq(sources.id, id)).get();
}

export async function getSource(db: Db, tenantId: string, mode: Mode, id: string): Promise<SourceRow | undefined> {
  return db
    .select()
    .from(sources)
    .where(and(live(tenantId, mode), eq(sources.id, id)))
    .get();
}

export async function listSources(db: Db, tenantId: string, mode: Mode, limit: number, after?: Cursor): Promise<Page<SourceRow>> {
  const rows = await db
    .select()
    .from(sources)
    .where(and(live(tenantId, mode), afterCursor(sources.createdAt, sources.id, after)))
    .orderBy(asc(sources.createdAt), asc(sources.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (s) => ({ t: s.createdAt.getTime(), id: s.id }));
}

/** Inserts within the `sources` quota; a live source of the same name makes it fail (unique index). */
export function insertSourceUnderQuota(db: Db, row: SourceRow, quota: number) {
  return insertUnderQuota(db, sources, row, live(row.tenantId, row.mode), quota);
}

export const sourceExists = (id: string) => sql`EXISTS (SELECT 1 FROM ${sources} WHERE ${eq(sources.id, id)})`;

/** A change to a source the caller found (in its mode): by id within the tenant. */
export function updateSource(db: Db, tenantId: string, id: string, set: SourcePatch) {
  return db
    .update(sources)
    .set(set)
    .where(and(eq(sources.tenantId, tenantId), isNull(sources.deletedAt), eq(sources.id, id)));
}
