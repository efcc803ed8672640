import type { TenantOp } from "../auth/caller";
import { type AuditRow, auditOfRequest, auditStatement, listAudit } from "../db/audit";
import { createDb, runBatch } from "../db/client";
import type { Cursor, Page } from "../db/cursor";

/**
 * A page of an owner's audit log, newest first: a tenant's own, or the
 * operator's (its owner id is the operator's log), optionally one action only.
 */
export async function listAuditLog(
  op: Pick<TenantOp, "env" | "tenant">,
  limit: number,
  filter: { action?: string; after?: Cursor },
): Promise<Page<AuditRow>> {
  return listAudit(createDb(op.env.DB), op.tenant.id, limit, filter);
}

/**
 * The operator's log repeats what one operator request changed in a tenant's
 * log (same actor, action, target, ip and request id; `details.tenantId`
 * names the tenant), so the operator sees every change its staff made.
 */
export async function copyToOperatorLog(env: Env, tenantId: string, requestId: string): Promise<void> {
  const db = createDb(env.DB);
  const rows = await auditOfRequest(db, tenantId, requestId);
  if (rows.length === 0) return;
  await runBatch(
    db,
    rows.map((r) =>
      auditStatement(
        db,
        { tenantId: null, actor: r.actor, ip: r.ip, requestId: r.requestId },
        { action: r.action, target: r.target, details: { ...(r.details ?? {}), tenantId } },
      ),
    ),
  );
}
