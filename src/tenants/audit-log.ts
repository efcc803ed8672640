import type { TenantOp } from "../auth/caller";
import { isOperatorPortalCredential } from "../auth/operator-portal";
import { type AuditRow, auditOfRequest, auditStatement, listAudit } from "../db/audit";
import { createDb, runBatch } from "../db/client";
import { credentialNames } from "../db/credential-names";
import type { Cursor, Page } from "../db/cursor";

/** An audit entry with its actor as a person reads it. */
export type NamedAuditRow = AuditRow & { actorName: string | null };

// Entries written before the operator actor was named `operator` say `admin`.
const OPERATOR_ACTORS = new Set(["operator", "admin"]);

/**
 * The actor's name, resolved when the log is read (so a renamed key shows its current name and old
 * entries are named too): "Operator", a member of staff's email, or a credential's name (null when
 * the credential is gone). The Integrations page the operator opens for a tenant acts as the operator.
 */
export function actorName(actor: string, names: Map<string, string>): string | null {
  if (OPERATOR_ACTORS.has(actor) || isOperatorPortalCredential(actor)) return "Operator";
  if (actor.startsWith("operator:")) return actor.slice("operator:".length);
  return names.get(actor) ?? null;
}

/**
 * A page of an owner's audit log, newest first: a tenant's own, or the
 * operator's (its owner id is the operator's log), optionally one action only.
 */
export async function listAuditLog(
  op: Pick<TenantOp, "env" | "tenant">,
  limit: number,
  filter: { action?: string; after?: Cursor },
): Promise<Page<NamedAuditRow>> {
  const db = createDb(op.env.DB);
  const entries = await listAudit(db, op.tenant.id, limit, filter);
  const names = await credentialNames(db, op.tenant.id, [...new Set(entries.rows.map((r) => r.actor))]);
  return { ...entries, rows: entries.rows.map((r) => ({ ...r, actorName: actorName(r.actor, names) })) };
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
