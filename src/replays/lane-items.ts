/**
 * The deliveries of a replay, as its lane keeps them in its own SQLite: one
 * row per matched delivery, in the order they go out (oldest first). The
 * replay's counters are counts of these rows, so they are exact whatever
 * the lane was doing when it last stopped.
 */
export const LANE_SCHEMA = `
CREATE TABLE IF NOT EXISTS items (
  replay_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  delivery_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  state TEXT NOT NULL,
  not_before INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (replay_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_state ON items (replay_id, state, seq);
`;

/**
 * `queued`: not sent yet; `waiting`: reopened, its attempt waits for the
 * endpoint's flow control until `not_before`; `inflight`: its attempt is
 * running (since `not_before`); `succeeded` /
 * `failed`: the replay's attempt and its outcome; `skipped`: not sent by
 * the replay (it changed status meanwhile, or another runner took it).
 */
export type ItemState = "queued" | "waiting" | "inflight" | "succeeded" | "failed" | "skipped";

export type LaneItem = { seq: number; deliveryId: string; tenantId: string; startedAt: number };
export type TakenItem = LaneItem & { reopened: boolean };

export type LaneCounts = { sent: number; succeeded: number; failed: number; queued: number; inflight: number };

export function addItems(sql: SqlStorage, replayId: string, items: { id: string; eventTenantId: string }[]): void {
  items.forEach((item, seq) => {
    sql.exec(
      "INSERT INTO items (replay_id, seq, delivery_id, tenant_id, state) VALUES (?, ?, ?, ?, 'queued')",
      replayId,
      seq,
      item.id,
      item.eventTenantId,
    );
  });
}

/** Takes the next item that is due (a waiting one first), marking it in flight. */
export function takeNext(sql: SqlStorage, replayId: string, now: number): TakenItem | null {
  const row = sql
    .exec(
      "SELECT seq, delivery_id, tenant_id, state FROM items WHERE replay_id = ? AND state IN ('waiting', 'queued') AND not_before <= ? ORDER BY state = 'queued', seq LIMIT 1",
      replayId,
      now,
    )
    .toArray()[0];
  if (!row) return null;
  sql.exec("UPDATE items SET state = 'inflight', not_before = ? WHERE replay_id = ? AND seq = ?", now, replayId, row.seq);
  return {
    seq: Number(row.seq),
    deliveryId: String(row.delivery_id),
    tenantId: String(row.tenant_id),
    startedAt: now,
    reopened: row.state === "waiting",
  };
}

export function setItemState(sql: SqlStorage, replayId: string, seq: number, state: ItemState, notBefore = 0): void {
  sql.exec("UPDATE items SET state = ?, not_before = ? WHERE replay_id = ? AND seq = ?", state, notBefore, replayId, seq);
}

/** Items left in flight by an earlier run of the lane (not among `running`, this run's). */
export function orphans(sql: SqlStorage, replayId: string, running: ReadonlySet<number>): LaneItem[] {
  return sql
    .exec("SELECT seq, delivery_id, tenant_id, not_before FROM items WHERE replay_id = ? AND state = 'inflight'", replayId)
    .toArray()
    .map((r) => ({ seq: Number(r.seq), deliveryId: String(r.delivery_id), tenantId: String(r.tenant_id), startedAt: Number(r.not_before) }))
    .filter((item) => !running.has(item.seq));
}

export function countItems(sql: SqlStorage, replayId: string): LaneCounts {
  const n: Record<string, number> = {};
  for (const r of sql.exec("SELECT state, count(*) AS n FROM items WHERE replay_id = ? GROUP BY state", replayId)) {
    n[String(r.state)] = Number(r.n);
  }
  const succeeded = n.succeeded ?? 0;
  const failed = n.failed ?? 0;
  const inflight = n.inflight ?? 0;
  return { sent: succeeded + failed + inflight, succeeded, failed, queued: (n.queued ?? 0) + (n.waiting ?? 0), inflight };
}

/** When the earliest queued item is due, or null when none is queued. */
export function nextDue(sql: SqlStorage, replayId: string): number | null {
  const at = sql.exec("SELECT min(not_before) AS at FROM items WHERE replay_id = ? AND state IN ('queued', 'waiting')", replayId).one().at;
  return at === null ? null : Number(at);
}

export function clearItems(sql: SqlStorage, replayId: string): void {
  sql.exec("DELETE FROM items WHERE replay_id = ?", replayId);
}
