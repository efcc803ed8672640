import type { SourceRequestStatus } from "../db/schema";
import type { AttemptInsert, Before, ClaimRecord, DeliveryFilter, DeliveryRecord, EventRecord, SourceRequestRecord } from "./records";
import {
  ATTEMPT_COLUMNS,
  attemptOf,
  claimOf,
  DELIVERY_COLUMNS,
  deliveryOf,
  eventOf,
  SOURCE_REQUEST_COLUMNS,
  sourceRequestOf,
} from "./shard-schema";

/** The reads of one data shard's SQLite, for the object to serve (`tenantId` is the shard's tenant). */

/** A WHERE clause built from optional conditions. */
class Where {
  private readonly parts: string[] = [];
  readonly args: SqlStorageValue[] = [];

  add(condition: string, ...args: SqlStorageValue[]): this {
    this.parts.push(condition);
    this.args.push(...args);
    return this;
  }

  when(value: unknown, condition: string, ...args: SqlStorageValue[]): this {
    return value === undefined || value === null || value === "" ? this : this.add(condition, ...args);
  }

  toString(): string {
    return this.parts.join(" AND ");
  }
}

export function claimFor(sql: SqlStorage, key: string, validAfter: number): ClaimRecord | null {
  const row = sql.exec("SELECT * FROM claims WHERE key = ? AND created_at > ?", key, validAfter).toArray()[0];
  return row ? claimOf(row) : null;
}

export function eventById(sql: SqlStorage, tenantId: string, id: string): EventRecord | null {
  const row = sql.exec("SELECT * FROM events WHERE id = ?", id).toArray()[0];
  return row ? eventOf(row, tenantId) : null;
}

export function deliveriesOf(sql: SqlStorage, tenantId: string, eventId: string, owner: string): DeliveryRecord[] {
  return sql
    .exec(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ? AND owner = ? ORDER BY created_at, id`, eventId, owner)
    .toArray()
    .map((r) => deliveryOf(r, tenantId));
}

export type EventQuery = { type?: string; since?: Date; until?: Date; afterSeq: number; limit: number };

/** Events in commit order after `afterSeq`. */
export function listEvents(sql: SqlStorage, tenantId: string, q: EventQuery): EventRecord[] {
  const w = new Where()
    .add("seq > ?", q.afterSeq)
    .when(q.type, "type = ?", q.type ?? null)
    .when(q.since, "created_at >= ?", q.since?.getTime() ?? null)
    .when(q.until, "created_at < ?", q.until?.getTime() ?? null);
  return sql
    .exec(`SELECT * FROM events WHERE ${w} ORDER BY seq LIMIT ?`, ...w.args, q.limit)
    .toArray()
    .map((r) => eventOf(r, tenantId));
}

const before = (w: Where, column: string, b: Before | null) =>
  b ? w.add(`(${column} < ? OR (${column} = ? AND id < ?))`, b.t, b.t, b.id) : w;

/** An owner's deliveries, newest first, strictly before `b`. */
export function listDeliveries(sql: SqlStorage, tenantId: string, f: DeliveryFilter, b: Before | null, limit: number): DeliveryRecord[] {
  const w = new Where()
    .add("owner = ?", f.owner)
    .when(f.webhookId, "webhook_id = ?", f.webhookId ?? null)
    .when(f.eventId, "event_id = ?", f.eventId ?? null)
    .when(f.eventType, "event_type = ?", f.eventType ?? null)
    .when(f.status, "status = ?", f.status ?? null)
    .when(f.since, "created_at >= ?", f.since?.getTime() ?? null)
    .when(f.until, "created_at < ?", f.until?.getTime() ?? null);
  before(w, "created_at", b);
  return sql
    .exec(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${w} ORDER BY created_at DESC, id DESC LIMIT ?`, ...w.args, limit)
    .toArray()
    .map((r) => deliveryOf(r, tenantId));
}

export function deliveryById(sql: SqlStorage, tenantId: string, id: string, owner?: string): DeliveryRecord | null {
  const w = new Where().add("id = ?", id).when(owner, "owner = ?", owner ?? null);
  const row = sql.exec(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE ${w}`, ...w.args).toArray()[0];
  return row ? deliveryOf(row, tenantId) : null;
}

export function attemptsOf(sql: SqlStorage, tenantId: string, deliveryId: string): AttemptInsert[] {
  return sql
    .exec(`SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE delivery_id = ? ORDER BY attempt`, deliveryId)
    .toArray()
    .map((r) => attemptOf(r, tenantId));
}

export function failedSince(sql: SqlStorage, webhookId: string, owner: string, since: Date, limit: number) {
  return sql
    .exec(
      "SELECT id, created_at FROM deliveries WHERE webhook_id = ? AND owner = ? AND status = 'failed' AND created_at >= ? ORDER BY created_at LIMIT ?",
      webhookId,
      owner,
      since.getTime(),
      limit,
    )
    .toArray()
    .map((r) => ({ id: String(r.id), createdAt: Number(r.created_at) }));
}

export function listSourceRequests(
  sql: SqlStorage,
  tenantId: string,
  sourceId: string,
  status: SourceRequestStatus | undefined,
  b: Before | null,
  limit: number,
): SourceRequestRecord[] {
  const w = new Where().add("source_id = ?", sourceId).when(status, "status = ?", status ?? null);
  before(w, "received_at", b);
  return sql
    .exec(`SELECT ${SOURCE_REQUEST_COLUMNS} FROM source_requests WHERE ${w} ORDER BY received_at DESC, id DESC LIMIT ?`, ...w.args, limit)
    .toArray()
    .map((r) => sourceRequestOf(r, tenantId));
}

export function sourceRequestById(sql: SqlStorage, tenantId: string, id: string, sourceId: string): SourceRequestRecord | null {
  const row = sql.exec(`SELECT ${SOURCE_REQUEST_COLUMNS} FROM source_requests WHERE id = ? AND source_id = ?`, id, sourceId).toArray()[0];
  return row ? sourceRequestOf(row, tenantId) : null;
}

/** What a bulk replay picks: one endpoint's deliveries (of one owner) in some statuses, created in [since, until). */
export type ReplayFilter = { webhookId: string; owner: string; statuses: string[]; eventTypes?: string[]; since: number; until?: number };

/** How many deliveries a replay matches here, and the oldest `limit` of them. */
export function replayMatches(
  sql: SqlStorage,
  f: ReplayFilter,
  limit: number,
): { count: number; rows: { id: string; createdAt: number }[] } {
  const w = new Where()
    .add("webhook_id = ?", f.webhookId)
    .add("owner = ?", f.owner)
    .add("status IN (SELECT value FROM json_each(?))", JSON.stringify(f.statuses))
    .add("created_at >= ?", f.since)
    .when(f.until, "created_at < ?", f.until ?? null)
    .when(f.eventTypes, "event_type IN (SELECT value FROM json_each(?))", JSON.stringify(f.eventTypes ?? []));
  const count = Number(sql.exec(`SELECT count(*) AS n FROM deliveries WHERE ${w}`, ...w.args).one().n);
  const rows = sql
    .exec(`SELECT id, created_at FROM deliveries WHERE ${w} ORDER BY created_at, id LIMIT ?`, ...w.args, limit)
    .toArray()
    .map((r) => ({ id: String(r.id), createdAt: Number(r.created_at) }));
  return { count, rows };
}
