import type { TenantOp } from "../auth/caller";
import { createDb } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import { type AttemptRow, attemptsOf, type DeliveryFilter, type DeliveryView, getDelivery, listDeliveries } from "../db/deliveries";
import { NotFoundError } from "../lib/errors";

/** The owner's delivery log (the operator's holds the deliveries to its own endpoints), newest first. */
export async function listDeliveryLog(
  op: Pick<TenantOp, "env" | "tenant">,
  limit: number,
  filter: DeliveryFilter,
  after?: Cursor,
): Promise<Page<DeliveryView>> {
  return listDeliveries(createDb(op.env.DB), op.tenant.id, limit, filter, after);
}

/** A delivery of the owner, or 404 (another owner's id too). */
export async function findDelivery(op: Pick<TenantOp, "env" | "tenant">, id: string): Promise<DeliveryView> {
  const row = await getDelivery(createDb(op.env.DB), op.tenant.id, id);
  if (!row) throw new NotFoundError("Delivery");
  return row;
}

/** A delivery of the owner with every attempt, in order. */
export async function deliveryWithAttempts(
  op: Pick<TenantOp, "env" | "tenant">,
  id: string,
): Promise<{ delivery: DeliveryView; attempts: AttemptRow[] }> {
  const delivery = await findDelivery(op, id);
  return { delivery, attempts: await attemptsOf(createDb(op.env.DB), delivery.id) };
}
