import type { AttemptError, DeliveryStatus, SourceRejection, SourceRequestStatus } from "../db/schema";
import type { AttemptInsert, BodyShape, ClaimRecord, DeliveryRecord, EventRecord, SourceRequestRecord } from "./records";

/**
 * The SQLite schema of one data shard (a tenant's day, one shard of it),
 * created when the object first wakes. Times are integer milliseconds.
 */
export const SHARD_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, data TEXT NOT NULL,
  source_id TEXT, created_at INTEGER NOT NULL, ordering_key TEXT, version TEXT);
CREATE INDEX IF NOT EXISTS events_type ON events (type, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, webhook_id TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER, last_attempt_at INTEGER,
  last_status_code INTEGER, last_duration_ms INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  repaired_at INTEGER);
CREATE INDEX IF NOT EXISTS deliveries_owner_created ON deliveries (owner, created_at, id);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_id);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS deliveries_webhook ON deliveries (webhook_id, status, created_at);
CREATE TABLE IF NOT EXISTS attempts (
  id TEXT PRIMARY KEY, delivery_id TEXT, webhook_id TEXT NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL,
  status_code INTEGER, duration_ms INTEGER NOT NULL, response_body TEXT, error TEXT, request_headers TEXT NOT NULL,
  body_shape TEXT, request_body TEXT);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id, attempt);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, event_id TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS source_requests (
  id TEXT PRIMARY KEY, source_id TEXT NOT NULL, received_at INTEGER NOT NULL, status TEXT NOT NULL, rejection TEXT,
  verified INTEGER NOT NULL, event_id TEXT, ip TEXT, method TEXT NOT NULL, query TEXT NOT NULL, headers TEXT NOT NULL,
  content_type TEXT, body TEXT NOT NULL, body_truncated INTEGER NOT NULL, response_status INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS source_requests_source ON source_requests (source_id, received_at, id);
`;

/**
 * Columns added since the first schema, for objects created before them
 * (CREATE TABLE IF NOT EXISTS leaves an existing table as it was). An
 * object records how many it has applied, so each runs once.
 */
const ADDED_COLUMNS = ["ALTER TABLE events ADD COLUMN version TEXT"] as const;

/** The object's tables as SHARD_SCHEMA has them, an older object's brought up to date. */
export function prepareShardTables(storage: DurableObjectStorage): void {
  storage.sql.exec(SHARD_SCHEMA);
  const applied = storage.kv.get<number>("schemaAdditions") ?? 0;
  for (const statement of ADDED_COLUMNS.slice(applied)) {
    try {
      storage.sql.exec(statement);
    } catch (err) {
      // Created with SHARD_SCHEMA as it is now: the column is there already.
      if (!/duplicate column name/i.test(String(err))) throw err;
    }
  }
  if (applied !== ADDED_COLUMNS.length) storage.kv.put("schemaAdditions", ADDED_COLUMNS.length);
}

type Row = Record<string, SqlStorageValue>;
type Value = SqlStorageValue | undefined;
const date = (v: Value): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));
const text = (v: Value): string | null => (v === null || v === undefined ? null : String(v));
const int = (v: Value): number | null => (v === null || v === undefined ? null : Number(v));

export function eventOf(r: Row, tenantId: string): EventRecord {
  return {
    id: String(r.id),
    tenantId,
    type: String(r.type),
    data: String(r.data),
    sourceId: text(r.source_id),
    createdAt: new Date(Number(r.created_at)),
    seq: Number(r.seq),
    orderingKey: text(r.ordering_key),
    version: text(r.version),
  };
}

export function deliveryOf(r: Row, eventTenantId: string): DeliveryRecord {
  return {
    id: String(r.id),
    tenantId: String(r.owner),
    eventTenantId,
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    webhookId: String(r.webhook_id),
    status: String(r.status) as DeliveryStatus,
    attempts: Number(r.attempts),
    nextAttemptAt: date(r.next_attempt_at),
    lastAttemptAt: date(r.last_attempt_at),
    lastStatusCode: int(r.last_status_code),
    lastDurationMs: int(r.last_duration_ms),
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

export function deliveryValues(d: DeliveryRecord): SqlStorageValue[] {
  return [
    d.id,
    d.tenantId,
    d.eventId,
    d.eventType,
    d.webhookId,
    d.status,
    d.attempts,
    d.nextAttemptAt?.getTime() ?? null,
    d.lastAttemptAt?.getTime() ?? null,
    d.lastStatusCode,
    d.lastDurationMs,
    d.createdAt.getTime(),
    d.updatedAt.getTime(),
  ];
}

export function attemptValues(a: AttemptInsert): SqlStorageValue[] {
  return [
    a.id,
    a.deliveryId,
    a.webhookId,
    a.attempt,
    a.at.getTime(),
    a.statusCode,
    a.durationMs,
    a.responseBody,
    a.error,
    JSON.stringify(a.requestHeaders),
    a.bodyShape ? JSON.stringify(a.bodyShape) : null,
    a.requestBody,
  ];
}

/** An attempt as stored; the caller rebuilds the body of a delivery's attempt from its event and shape. */
export function attemptOf(r: Row, tenantId: string): AttemptInsert {
  return {
    id: String(r.id),
    tenantId,
    deliveryId: text(r.delivery_id),
    webhookId: String(r.webhook_id),
    attempt: Number(r.attempt),
    at: new Date(Number(r.at)),
    statusCode: int(r.status_code),
    durationMs: Number(r.duration_ms),
    responseBody: text(r.response_body),
    error: text(r.error) as AttemptError | null,
    requestHeaders: JSON.parse(String(r.request_headers)) as Record<string, string>,
    bodyShape: r.body_shape === null ? null : (JSON.parse(String(r.body_shape)) as BodyShape),
    requestBody: text(r.request_body),
    isTest: r.delivery_id === null,
  };
}

export const claimOf = (r: Row): ClaimRecord => ({
  key: String(r.key),
  requestHash: String(r.request_hash),
  eventId: String(r.event_id),
  createdAt: new Date(Number(r.created_at)),
});

export function sourceRequestValues(s: SourceRequestRecord): SqlStorageValue[] {
  return [
    s.id,
    s.sourceId,
    s.receivedAt.getTime(),
    s.status,
    s.rejection,
    s.verified ? 1 : 0,
    s.eventId,
    s.ip,
    s.method,
    JSON.stringify(s.query),
    JSON.stringify(s.headers),
    s.contentType,
    s.body,
    s.bodyTruncated ? 1 : 0,
    s.responseStatus,
  ];
}

export function sourceRequestOf(r: Row, tenantId: string): SourceRequestRecord {
  return {
    id: String(r.id),
    tenantId,
    sourceId: String(r.source_id),
    receivedAt: new Date(Number(r.received_at)),
    status: String(r.status) as SourceRequestStatus,
    rejection: text(r.rejection) as SourceRejection | null,
    verified: Number(r.verified) === 1,
    eventId: text(r.event_id),
    ip: text(r.ip),
    method: String(r.method),
    query: JSON.parse(String(r.query)) as Record<string, string>,
    headers: JSON.parse(String(r.headers)) as Record<string, string>,
    contentType: text(r.content_type),
    body: String(r.body),
    bodyTruncated: Number(r.body_truncated) === 1,
    responseStatus: Number(r.response_status),
  };
}

export const DELIVERY_COLUMNS =
  "id, owner, event_id, event_type, webhook_id, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_duration_ms, created_at, updated_at";
export const ATTEMPT_COLUMNS =
  "id, delivery_id, webhook_id, attempt, at, status_code, duration_ms, response_body, error, request_headers, body_shape, request_body";
export const SOURCE_REQUEST_COLUMNS =
  "id, source_id, received_at, status, rejection, verified, event_id, ip, method, query, headers, content_type, body, body_truncated, response_status";
export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");
