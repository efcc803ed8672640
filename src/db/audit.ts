import { and, desc, eq, getTableColumns, lt, type SQL, sql } from "drizzle-orm";
import { newId } from "../lib/crypto";
import { type Db, insertWhere } from "./client";
import type { Cursor } from "./cursor";
import { type Page, toPage } from "./cursor";
import { auditLog } from "./schema";

export type AuditRow = typeof auditLog.$inferSelect;

/** Who did it and from where. `tenantId` null: the operator's own log. */
export type AuditActor = { tenantId: string | null; actor: string; ip: string | null; requestId: string };

/** The operator's audit log lives under this tenant id (the operator's owner id). */
export const OPERATOR_LOG = "operator";

export type AuditEntry = { action: string; target: string; details?: Record<string, unknown> };

/**
 * The statement that records an action, for the same batch as the change it
 * records (and, with `onlyIf`, only when that change happened). `details`
 * must never hold a secret: ids, names and changed field names only.
 */
export function auditStatement(db: Db, who: AuditActor, entry: AuditEntry, onlyIf?: SQL) {
  const row = {
    id: newId("aud"),
    tenantId: who.tenantId ?? OPERATOR_LOG,
    at: new Date(),
    actor: who.actor,
    action: entry.action,
    target: entry.target,
    ip: who.ip,
    requestId: who.requestId,
    details: entry.details ?? null,
  };
  return onlyIf ? insertWhere(db, auditLog, row, onlyIf) : db.insert(auditLog).values(row);
}

/**
 * Newest first, by insertion order (SQLite's rowid): entries written in the
 * same millisecond keep their order, which their timestamps cannot. The
 * cursor's `t` is the rowid of the last entry of the previous page.
 */
export async function listAudit(
  db: Db,
  tenantId: string,
  limit: number,
  filter: { action?: string; after?: Cursor },
): Promise<Page<AuditRow>> {
  const seq = sql<number>`${auditLog}.rowid`;
  const rows = await db
    .select({ ...getTableColumns(auditLog), seq })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.tenantId, tenantId),
        filter.action ? eq(auditLog.action, filter.action) : undefined,
        filter.after ? lt(seq, filter.after.t) : undefined,
      ),
    )
    .orderBy(desc(seq))
    .limit(limit + 1)
    .all();
  return toPage(rows, limit, (r) => ({ t: r.seq, id: r.id }));
}

/** The entries one request wrote in an owner's log, oldest first. */
export async function auditOfRequest(db: Db, tenantId: string, requestId: string): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, tenantId), eq(auditLog.requestId, requestId)))
    .orderBy(sql`${auditLog}.rowid`)
    .all();
}
