import { and, desc, eq, getTableColumns, lt, sql } from "drizzle-orm";
import { newId } from "../lib/crypto";
import type { Cursor } from "../http/pagination";
import type { Db } from "./client";
import { auditLog } from "./schema";

export type AuditRow = typeof auditLog.$inferSelect;

/** Who did it and from where; built once per request from the context. */
export type AuditActor = { tenantId: string; actor: string; ip: string | null; requestId: string };

/**
 * Records an action. `details` must never hold a secret: callers pass ids,
 * names and changed field names only.
 */
export async function recordAudit(
  db: Db,
  who: AuditActor,
  action: string,
  target: string,
  details?: Record<string, unknown>,
): Promise<void> {
  await db
    .insert(auditLog)
    .values({
      id: newId("aud"),
      tenantId: who.tenantId,
      at: new Date(),
      actor: who.actor,
      action,
      target,
      ip: who.ip,
      requestId: who.requestId,
      details: details ?? null,
    })
    .run();
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
): Promise<(AuditRow & { seq: number })[]> {
  const seq = sql<number>`${auditLog}.rowid`;
  return db
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
}
