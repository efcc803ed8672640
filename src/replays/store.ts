import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { afterCursor, type Cursor, type Page, toPage } from "../db/cursor";
import { replays } from "../db/schema";

/** A replay as D1 mirrors it (its lane holds the live counts while it runs). */
export type ReplayRow = typeof replays.$inferSelect;

/** The request's insert: a no-op when the lane has already written the row (a replay that finished at once). */
export const insertReplay = (db: Db, row: ReplayRow) => db.insert(replays).values(row).onConflictDoNothing();

/** The lane's write: the whole row, whichever of it and the request's insert comes first. */
export const saveReplay = (db: Db, row: ReplayRow) =>
  db
    .insert(replays)
    .values(row)
    .onConflictDoUpdate({
      target: replays.id,
      set: {
        state: row.state,
        matched: row.matched,
        sent: row.sent,
        succeeded: row.succeeded,
        failed: row.failed,
        finishedAt: row.finishedAt,
      },
    });

export async function getReplay(db: Db, tenantId: string, id: string): Promise<ReplayRow | undefined> {
  return db
    .select()
    .from(replays)
    .where(and(eq(replays.tenantId, tenantId), eq(replays.id, id)))
    .get();
}

/** An owner's replays, newest first, optionally of one endpoint. */
export async function listReplays(
  db: Db,
  tenantId: string,
  limit: number,
  f: { webhookId?: string; after?: Cursor },
): Promise<Page<ReplayRow>> {
  const rows = await db
    .select()
    .from(replays)
    .where(
      and(
        eq(replays.tenantId, tenantId),
        f.webhookId ? eq(replays.webhookId, f.webhookId) : undefined,
        afterCursor(replays.createdAt, replays.id, f.after, "desc"),
      ),
    )
    .orderBy(desc(replays.createdAt), desc(replays.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.createdAt.getTime(), id: r.id }));
}
