import type { DeliveryStatus, SourceRequestStatus } from "../db/schema";
import type { AttemptInsert, DeliveryRecord, EventRecord, SourceRequestRecord } from "./records";
import {
  ATTEMPT_COLUMNS,
  attemptValues,
  DELIVERY_COLUMNS,
  deliveryValues,
  placeholders,
  SOURCE_REQUEST_COLUMNS,
  sourceRequestValues,
} from "./shard-schema";

/** The writes of one data shard's SQLite (the object runs them, inside its transactions where several go together). */

export function insertClaim(sql: SqlStorage, claim: { key: string; requestHash: string }, eventId: string, now: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO claims (key, request_hash, event_id, created_at) VALUES (?, ?, ?, ?)",
    claim.key,
    claim.requestHash,
    eventId,
    now,
  );
}

export function insertEvent(sql: SqlStorage, e: EventRecord): void {
  sql.exec(
    "INSERT INTO events (id, type, data, source_id, created_at, ordering_key, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
    e.id,
    e.type,
    e.data,
    e.sourceId,
    e.createdAt.getTime(),
    e.orderingKey ?? null,
    e.version ?? null,
  );
}

export function insertDelivery(sql: SqlStorage, d: DeliveryRecord): void {
  sql.exec(`INSERT INTO deliveries (${DELIVERY_COLUMNS}) VALUES (${placeholders(13)})`, ...deliveryValues(d));
}

export function insertAttempt(sql: SqlStorage, a: AttemptInsert): void {
  sql.exec(`INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (${placeholders(12)})`, ...attemptValues(a));
}

export function insertSourceRequest(sql: SqlStorage, r: SourceRequestRecord): void {
  sql.exec(`INSERT INTO source_requests (${SOURCE_REQUEST_COLUMNS}) VALUES (${placeholders(15)})`, ...sourceRequestValues(r));
}

/** Takes attempt `attemptsSoFar + 1` unless someone else has; answers whether it did. */
export function claimAttempt(sql: SqlStorage, id: string, attemptsSoFar: number, now: number, leaseUntil: number): boolean {
  return (
    sql.exec(
      "UPDATE deliveries SET attempts = ?, last_attempt_at = ?, next_attempt_at = ?, updated_at = ?, repaired_at = NULL WHERE id = ? AND status = 'pending' AND attempts = ?",
      attemptsSoFar + 1,
      now,
      leaseUntil,
      now,
      id,
      attemptsSoFar,
    ).rowsWritten > 0
  );
}

export type SettleSet = {
  status: DeliveryStatus;
  lastStatusCode: number | null;
  nextAttemptAt: Date | null;
  lastDurationMs?: number | null;
};

export function settleDelivery(sql: SqlStorage, id: string, set: SettleSet, onlyIfPending: boolean): boolean {
  return (
    sql.exec(
      `UPDATE deliveries SET status = ?, last_status_code = ?, next_attempt_at = ?, last_duration_ms = COALESCE(?, last_duration_ms), updated_at = ? WHERE id = ?${onlyIfPending ? " AND status = 'pending'" : ""}`,
      set.status,
      set.lastStatusCode,
      set.nextAttemptAt?.getTime() ?? null,
      set.lastDurationMs ?? null,
      Date.now(),
      id,
    ).rowsWritten > 0
  );
}

export function settleIfPending(sql: SqlStorage, id: string, status: DeliveryStatus): boolean {
  const q = "UPDATE deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? WHERE id = ? AND status = 'pending'";
  return sql.exec(q, status, Date.now(), id).rowsWritten > 0;
}

export function deferDelivery(sql: SqlStorage, id: string, until: number): void {
  sql.exec("UPDATE deliveries SET next_attempt_at = ?, repaired_at = NULL WHERE id = ? AND status = 'pending'", until, id);
}

export function reopenDelivery(sql: SqlStorage, id: string, now: number): number {
  const q = "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?, repaired_at = NULL WHERE id = ?";
  return sql.exec(q, now, now, id).rowsWritten;
}

export function cancelPendingOf(sql: SqlStorage, webhookId: string): number {
  const q =
    "UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE webhook_id = ? AND status = 'pending'";
  return sql.exec(q, Date.now(), webhookId).rowsWritten;
}

// --- breaker: a held delivery is pending with next_attempt_at NULL (the outbox's pass never takes it) ---
export function holdDelivery(sql: SqlStorage, id: string): boolean {
  const q = "UPDATE deliveries SET next_attempt_at = NULL, repaired_at = NULL WHERE id = ? AND status = 'pending'";
  return sql.exec(q, id).rowsWritten > 0;
}

export function releaseHeld(sql: SqlStorage, id: string, now: number): boolean {
  const q = "UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL";
  return sql.exec(q, now, now, id).rowsWritten > 0;
}

export function failHeld(sql: SqlStorage, id: string): { id: string; eventId: string; eventType: string; attempts: number }[] {
  const q =
    "UPDATE deliveries SET status = 'failed', updated_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL RETURNING id, event_id, event_type, attempts";
  return sql
    .exec(q, Date.now(), id)
    .toArray()
    .map((r) => ({ id: String(r.id), eventId: String(r.event_id), eventType: String(r.event_type), attempts: Number(r.attempts) }));
}
// --- end breaker ---

export type RequestLogChange = { status: SourceRequestStatus; rejection: string | null; eventId?: string | null; responseStatus?: number };

export function updateSourceRequest(sql: SqlStorage, id: string, set: RequestLogChange): void {
  sql.exec(
    "UPDATE source_requests SET status = ?, rejection = ?, event_id = COALESCE(?, event_id), response_status = COALESCE(?, response_status) WHERE id = ?",
    set.status,
    set.rejection,
    set.eventId ?? null,
    set.responseStatus ?? null,
    id,
  );
}

/** A row the outbox's pass took, with the times it had before. */
export type TakenRow = { id: string; nextAttemptAt: number; repairedAt: number | null };

/**
 * The outbox's pass: pending deliveries `graceMs` past due (or past their
 * lease) and not repaired within `backoffMs` have lost their queue
 * message; they are marked repaired now, and returned to be re-enqueued.
 */
export function takeLostDeliveries(sql: SqlStorage, now: number, graceMs: number, backoffMs: number, limit: number): TakenRow[] {
  const lost = sql
    .exec(
      "SELECT id, next_attempt_at, repaired_at FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND (repaired_at IS NULL OR repaired_at <= ?) ORDER BY next_attempt_at LIMIT ?",
      now - graceMs,
      now - backoffMs,
      limit,
    )
    .toArray()
    .map((r) => ({
      id: String(r.id),
      nextAttemptAt: Number(r.next_attempt_at),
      repairedAt: r.repaired_at === null ? null : Number(r.repaired_at),
    }));
  for (const r of lost) sql.exec("UPDATE deliveries SET next_attempt_at = ?, repaired_at = ? WHERE id = ?", now, now, r.id);
  return lost;
}

/** Puts back rows taken at `takenAt` whose messages never left, unless something changed them since (a claim, a settle). */
export function untakeLost(sql: SqlStorage, rows: TakenRow[], takenAt: number): void {
  for (const r of rows) {
    sql.exec(
      "UPDATE deliveries SET next_attempt_at = ?, repaired_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ? AND repaired_at = ?",
      r.nextAttemptAt,
      r.repairedAt,
      r.id,
      takenAt,
      takenAt,
    );
  }
}

/** When the outbox next has something to look at, or null when nothing is pending. */
export function nextRepairAt(sql: SqlStorage, graceMs: number, backoffMs: number): number | null {
  const at = sql
    .exec(
      "SELECT min(max(next_attempt_at + ?, COALESCE(repaired_at + ?, 0))) AS at FROM deliveries WHERE status = 'pending'",
      graceMs,
      backoffMs,
    )
    .one().at;
  return at === null ? null : Number(at);
}
