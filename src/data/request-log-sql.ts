import type { Mode } from "../common/enums";

/**
 * The SQLite side of a tenant's request-error log (src/data/request-log.ts):
 * one table of non-2xx answers to the tenant's credentials, newest first by
 * `(at, seq)`. A request id the caller chose may repeat: `seq` keeps both.
 */
export const REQUEST_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS request_errors (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, at INTEGER NOT NULL, mode TEXT NOT NULL,
  credential_id TEXT NOT NULL, credential_name TEXT, method TEXT NOT NULL, path TEXT NOT NULL,
  status INTEGER NOT NULL, code TEXT, duration_ms INTEGER NOT NULL, ip TEXT);
CREATE INDEX IF NOT EXISTS request_errors_id ON request_errors (request_id);
CREATE INDEX IF NOT EXISTS request_errors_at ON request_errors (at, seq);
CREATE INDEX IF NOT EXISTS request_errors_credential ON request_errors (credential_id, at, seq);
`;

/** One non-2xx answer to a known credential, as kept. */
export type RequestErrorRecord = {
  requestId: string;
  at: number;
  mode: Mode;
  credentialId: string;
  credentialName: string | null;
  method: string;
  path: string;
  status: number;
  code: string | null;
  durationMs: number;
  ip: string | null;
};

/** `class`: 4xx or 5xx; `status`: one HTTP status; `code`: one problem `code`. */
export type StatusFilter = { class: 4 | 5 } | { status: number } | { code: string };

export type RequestErrorQuery = {
  /** null: both modes (the operator). */
  mode: Mode | null;
  status?: StatusFilter;
  credentialId?: string;
  since?: number;
  until?: number;
  /** Keyset: rows strictly older than this `(at, seq)`. */
  before?: { at: number; seq: number } | null;
  limit: number;
};

export type StoredRequestError = RequestErrorRecord & { seq: number };

const COLUMNS = "request_id, at, mode, credential_id, credential_name, method, path, status, code, duration_ms, ip";

export function insertRequestErrors(sql: SqlStorage, rows: RequestErrorRecord[]): void {
  for (const r of rows) {
    sql.exec(
      `INSERT INTO request_errors (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.requestId,
      r.at,
      r.mode,
      r.credentialId,
      r.credentialName,
      r.method,
      r.path,
      r.status,
      r.code,
      r.durationMs,
      r.ip,
    );
  }
}

export function queryRequestErrors(sql: SqlStorage, q: RequestErrorQuery): StoredRequestError[] {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  const add = (cond: string, ...values: SqlStorageValue[]) => {
    where.push(cond);
    args.push(...values);
  };
  if (q.mode) add("mode = ?", q.mode);
  if (q.credentialId) add("credential_id = ?", q.credentialId);
  if (q.since !== undefined) add("at >= ?", q.since);
  if (q.until !== undefined) add("at <= ?", q.until);
  if (q.before) add("(at < ? OR (at = ? AND seq < ?))", q.before.at, q.before.at, q.before.seq);
  const s = q.status;
  if (s && "class" in s) add("status >= ? AND status < ?", s.class * 100, s.class * 100 + 100);
  else if (s && "status" in s) add("status = ?", s.status);
  else if (s && "code" in s) add("code = ?", s.code);
  const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  return sql
    .exec(`SELECT seq, ${COLUMNS} FROM request_errors ${clause} ORDER BY at DESC, seq DESC LIMIT ?`, ...args, q.limit)
    .toArray()
    .map(recordOf);
}

/** The newest answer kept under this request id (in `mode`, unless null). */
export function requestErrorById(sql: SqlStorage, requestId: string, mode: Mode | null): StoredRequestError | null {
  const row = mode
    ? sql.exec(`SELECT seq, ${COLUMNS} FROM request_errors WHERE request_id = ? AND mode = ? ORDER BY seq DESC LIMIT 1`, requestId, mode)
    : sql.exec(`SELECT seq, ${COLUMNS} FROM request_errors WHERE request_id = ? ORDER BY seq DESC LIMIT 1`, requestId);
  const found = row.toArray()[0];
  return found ? recordOf(found) : null;
}

function recordOf(r: Record<string, SqlStorageValue>): StoredRequestError {
  return {
    seq: Number(r.seq),
    requestId: String(r.request_id),
    at: Number(r.at),
    mode: String(r.mode) as Mode,
    credentialId: String(r.credential_id),
    credentialName: r.credential_name === null ? null : String(r.credential_name),
    method: String(r.method),
    path: String(r.path),
    status: Number(r.status),
    code: r.code === null ? null : String(r.code),
    durationMs: Number(r.duration_ms),
    ip: r.ip === null ? null : String(r.ip),
  };
}
