import { and, desc, eq, gte, lte, or, type SQL, sql } from "drizzle-orm";
import type { Mode } from "../common/enums";
import type { Db } from "../db/client";
import { afterCursor, type Cursor, type Page, toPage } from "../db/cursor";
import { replays } from "../db/schema";

/** A replay as D1 mirrors it (its lane holds the live counts while it runs). */
export type ReplayRow = typeof replays.$inferSelect;

/** The request's insert: a no-op when the lane has already written the row (a replay that finished at once). */
export const insertReplay = (db: Db, row: ReplayRow) => db.insert(replays).values(row).onConflictDoNothing();

/**
 * The whole row, whichever of it and the request's insert comes first. The
 * lane and a cancel both write it, in any order, so the write only moves
 * forward: a finished row never changes state again (a done replay does not
 * become cancelled, nor a late running snapshot reopen it), and once over,
 * its outcomes only grow and `sent` (which counts attempts still in flight)
 * only shrinks, so an older snapshot never replaces a newer one.
 */
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
      setWhere: or(
        eq(replays.state, "running"),
        and(
          eq(replays.state, row.state),
          lte(replays.succeeded, row.succeeded),
          lte(replays.failed, row.failed),
          gte(replays.sent, row.sent),
        ),
      ),
    });

/** Ends a replay no lane holds: only while its row still says running (a lane that finished it has the last word). */
export const cancelIfRunning = (db: Db, tenantId: string, id: string, finishedAt: Date) =>
  db
    .update(replays)
    .set({ state: "cancelled", finishedAt })
    .where(and(eq(replays.tenantId, tenantId), eq(replays.id, id), eq(replays.state, "running")))
    .returning();

/** The row was just ended by `cancelIfRunning` at `finishedAt`: the condition for its audit entry. */
export const cancelledAt = (id: string, finishedAt: Date): SQL =>
  sql`EXISTS (SELECT 1 FROM ${replays} WHERE ${eq(replays.id, id)} AND ${eq(replays.state, "cancelled")} AND ${eq(replays.finishedAt, finishedAt)})`;

/** A replay of the owner in `mode` (another mode's id: none). */
export async function getReplay(db: Db, tenantId: string, mode: Mode, id: string): Promise<ReplayRow | undefined> {
  return db
    .select()
    .from(replays)
    .where(and(eq(replays.tenantId, tenantId), eq(replays.mode, mode), eq(replays.id, id)))
    .get();
}

/** An owner's replays of `mode`, newest first, optionally of one endpoint. */
export async function listReplays(
  db: Db,
  tenantId: string,
  mode: Mode,
  limit: number,
  f: { webhookId?: string; after?: Cursor },
): Promise<Page<ReplayRow>> {
  const rows = await db
    .select()
    .from(replays)
    .where(
      and(
        eq(replays.tenantId, tenantId),
        eq(replays.mode, mode),
        f.webhookId ? eq(replays.webhookId, f.webhookId) : undefined,
        afterCursor(replays.createdAt, replays.id, f.after, "desc"),
      ),
    )
    .orderBy(desc(replays.createdAt), desc(replays.id))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.createdAt.getTime(), id: r.id }));
}
