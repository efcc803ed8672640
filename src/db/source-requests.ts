import { and, desc, eq, inArray, lt } from "drizzle-orm";
import type { Db } from "./client";
import { afterCursor, type Cursor, type Page, toPage } from "./cursor";
import { type SourceRequestStatus, sourceRequests } from "./schema";

export type SourceRequestRow = typeof sourceRequests.$inferSelect;

export function insertSourceRequest(db: Db, row: SourceRequestRow) {
  return db.insert(sourceRequests).values(row);
}

/** Newest first. */
export async function listSourceRequests(
  db: Db,
  tenantId: string,
  sourceId: string,
  limit: number,
  filter: { status?: SourceRequestStatus },
  after?: Cursor,
): Promise<Page<SourceRequestRow>> {
  const rows = await db
    .select()
    .from(sourceRequests)
    .where(
      and(
        eq(sourceRequests.tenantId, tenantId),
        eq(sourceRequests.sourceId, sourceId),
        filter.status ? eq(sourceRequests.status, filter.status) : undefined,
        afterCursor(sourceRequests.receivedAt, sourceRequests.id, after, "desc"),
      ),
    )
    .orderBy(desc(sourceRequests.receivedAt), desc(sourceRequests.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.receivedAt.getTime(), id: r.id }));
}

export async function getSourceRequest(db: Db, tenantId: string, sourceId: string, id: string): Promise<SourceRequestRow | undefined> {
  return db
    .select()
    .from(sourceRequests)
    .where(and(eq(sourceRequests.tenantId, tenantId), eq(sourceRequests.sourceId, sourceId), eq(sourceRequests.id, id)))
    .get();
}

export function updateSourceRequest(
  db: Db,
  id: string,
  set: Partial<Pick<SourceRequestRow, "status" | "rejection" | "eventId" | "responseStatus">>,
) {
  return db.update(sourceRequests).set(set).where(eq(sourceRequests.id, id));
}

/** Drops up to `batch` log entries received before `cutoff` (retention, like events). */
export async function purgeSourceRequestsBefore(db: Db, cutoff: Date, batch: number): Promise<number> {
  const old = db.select({ id: sourceRequests.id }).from(sourceRequests).where(lt(sourceRequests.receivedAt, cutoff)).limit(batch);
  const res = await db.delete(sourceRequests).where(inArray(sourceRequests.id, old)).run();
  return res.meta.changes;
}
