/**
 * A listen session's own storage (its Durable Object's SQLite): who it belongs to, when its last
 * connection ended, and the deliveries that came while no CLI was connected, in arrival order.
 */
export type SessionMeta = {
  sessionId: string;
  tenantId: string;
  webhookId: string;
  /** When the last connection ended; null while one is open. */
  disconnectedAt: number | null;
  expired: boolean;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS waiting (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT NOT NULL,
  released_at INTEGER
);`;

export type WaitingDelivery = { seq: number; deliveryId: string; tenantId: string };

export class SessionStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
  }

  meta(): SessionMeta | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'session'").toArray()[0];
    return row ? (JSON.parse(row.v) as SessionMeta) : null;
  }

  saveMeta(meta: SessionMeta): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('session', ?)", JSON.stringify(meta));
  }

  /** Adds a delivery to the line (once: a second arrival keeps its first place). */
  hold(deliveryId: string, tenantId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO waiting (delivery_id, tenant_id) VALUES (?, ?)", deliveryId, tenantId);
  }

  /** The deliveries not yet handed back to the queue, in order; marked as handed back. */
  takeUnreleased(now: number): WaitingDelivery[] {
    const rows = this.sql
      .exec<{ seq: number; delivery_id: string; tenant_id: string }>(
        "SELECT seq, delivery_id, tenant_id FROM waiting WHERE released_at IS NULL ORDER BY seq",
      )
      .toArray();
    this.sql.exec("UPDATE waiting SET released_at = ? WHERE released_at IS NULL", now);
    return rows.map((r) => ({ seq: r.seq, deliveryId: r.delivery_id, tenantId: r.tenant_id }));
  }

  /** How many handed-back deliveries go before this one (all of them, for one not in the line). */
  aheadOf(deliveryId: string): number {
    const row = this.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM waiting WHERE released_at IS NOT NULL AND seq < COALESCE((SELECT seq FROM waiting WHERE delivery_id = ?), 9223372036854775807)",
        deliveryId,
      )
      .one();
    return row.n;
  }

  /** Gives up on those ahead of this one (cancelled or lost meanwhile): they no longer hold the line. */
  dropAheadOf(deliveryId: string): void {
    this.sql.exec(
      "DELETE FROM waiting WHERE released_at IS NOT NULL AND seq < COALESCE((SELECT seq FROM waiting WHERE delivery_id = ?), 9223372036854775807)",
      deliveryId,
    );
  }

  remove(deliveryId: string): void {
    this.sql.exec("DELETE FROM waiting WHERE delivery_id = ?", deliveryId);
  }

  clearWaiting(): void {
    this.sql.exec("DELETE FROM waiting");
  }
}
