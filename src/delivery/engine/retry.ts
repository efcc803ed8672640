import type { TenantOp } from "../../auth/caller";
import { enqueueDeliveries } from "../../data/outbox";
import type { DeliveryRecord } from "../../data/records";
import { auditStatement } from "../../db/audit";
import { createDb } from "../../db/client";
import { getWebhook, storedMode } from "../../db/webhooks";
import { ConflictError } from "../../lib/errors";
import { ownedAction } from "../../tenants/operator";
import { shardOfDelivery } from "./attempt";
import { findDelivery } from "./log";

/** One more attempt now, outside the schedule, for a delivery that is not pending (409 while it is). */
export async function retryDelivery(op: TenantOp, id: string): Promise<DeliveryRecord> {
  const db = createDb(op.env.DB);
  const row = await findDelivery(op, id);
  if (row.status === "pending") throw new ConflictError("conflict", "This delivery is already pending; it will be attempted");
  const webhook = await getWebhook(db, op.tenant.id, storedMode(op.tenant.id, op.mode), row.webhookId);
  if (!webhook) throw new ConflictError("conflict", "The subscription of this delivery was deleted");
  if (!webhook.isEnabled) throw new ConflictError("conflict", "The subscription is disabled; enable it first");
  const now = new Date();
  await shardOfDelivery(op.env, row).reopen([row.id], now);
  await auditStatement(db, op.who, { action: ownedAction(op.tenant.id, "delivery.retried"), target: row.id }).run();
  await enqueueDeliveries(op.env, [row], { manual: true });
  return { ...row, status: "pending", nextAttemptAt: now };
}
