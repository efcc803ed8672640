import type { TenantOp } from "../auth/caller";
import { type AuditRow, listAudit } from "../db/audit";
import { createDb } from "../db/client";
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
