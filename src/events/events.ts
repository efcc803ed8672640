import type { TenantOp } from "../auth/caller";
import { dataTenantOf } from "../data/owners";
import { objectOfId } from "../data/placement";
import { type PollPosition, type PollQuery, pollEvents } from "../data/reads";
import type { DeliveryRecord, EventRecord } from "../data/records";
import { NotFoundError } from "../lib/errors";
import { shardStub } from "../objects";

/** An event of the tenant with its deliveries, or 404 (another tenant's id too). */
export async function eventWithDeliveries(
  op: Pick<TenantOp, "env" | "tenant">,
  id: string,
): Promise<{ event: EventRecord; deliveries: DeliveryRecord[] }> {
  const object = objectOfId(op.tenant.id, id, "evt");
  const found = object && (await shardStub(op.env, object.name).eventWithDeliveries(id, op.tenant.id));
  if (!found) throw new NotFoundError("Event");
  return found;
}

/** The tenant's events oldest first, from `from` (a poller's saved position) on. */
export async function pollTenantEvents(op: Pick<TenantOp, "env" | "config" | "tenant">, q: PollQuery, from?: PollPosition) {
  return pollEvents(op.env, dataTenantOf(op.tenant), q, from, op.config.eventRetentionDays);
}
