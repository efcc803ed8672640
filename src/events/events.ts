import type { TenantOp } from "../auth/caller";
import { createDb } from "../db/client";
import { type DeliveryRow, deliveriesOfEvent } from "../db/deliveries";
import { type EventRow, getEvent } from "../db/events";
import { NotFoundError } from "../lib/errors";

/** An event of the tenant with its deliveries, or 404 (another tenant's id too). */
export async function eventWithDeliveries(
  op: Pick<TenantOp, "env" | "tenant">,
  id: string,
): Promise<{ event: EventRow; deliveries: DeliveryRow[] }> {
  const db = createDb(op.env.DB);
  const event = await getEvent(db, op.tenant.id, id);
  if (!event) throw new NotFoundError("Event");
  return { event, deliveries: await deliveriesOfEvent(db, op.tenant.id, event.id) };
}
