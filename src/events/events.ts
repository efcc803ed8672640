import type { TenantOp } from "../auth/caller";
import { dataTenantOf } from "../data/owners";
import { objectOfId } from "../data/placement";
import { type PollPosition, type PollQuery, pollEvents } from "../data/reads";
import type { DeliveryRecord, EventRecord } from "../data/records";
import { retentionDaysOf } from "../data/shard-map";
import { NotFoundError } from "../lib/errors";
import { shardStub } from "../objects";
import { payloadAtVersion } from "../versions/payload";

/** An event of the tenant with its deliveries, or 404 (another tenant's id too). */
export async function eventWithDeliveries(
  op: Pick<TenantOp, "env" | "tenant" | "mode">,
  id: string,
): Promise<{ event: EventRecord; deliveries: DeliveryRecord[] }> {
  // Another mode's id is a 404, as another tenant's is.
  const object = objectOfId(op.tenant.id, id, "evt", op.mode);
  const found = object && (await shardStub(op.env, object.name).eventWithDeliveries(id, op.tenant.id));
  if (!found) throw new NotFoundError("Event");
  return found;
}

/** A polled event; `versionError` when its data could not be turned into the version asked for (it is then as published). */
export type PolledEvent = EventRecord & { versionError?: string };

/**
 * The tenant's events of the caller's mode, oldest first, from `from` (a poller's saved position)
 * on; with `version` (a date), each event's data at the newest version of its
 * type at or before it, as a subscription pinned there receives it.
 */
export async function pollTenantEvents(
  op: Pick<TenantOp, "env" | "config" | "tenant" | "mode">,
  q: PollQuery,
  from?: PollPosition,
  version?: string,
) {
  const found = await pollEvents(op.env, dataTenantOf(op.tenant, op.mode), q, from, retentionDaysOf(op.mode, op.config.eventRetentionDays));
  if (version === undefined) return found;
  const rows: PolledEvent[] = await Promise.all(found.rows.map((e) => atVersion(op.env, e, version)));
  return { ...found, rows };
}

async function atVersion(env: Env, e: EventRecord, pin: string): Promise<PolledEvent> {
  const data = JSON.parse(e.data) as unknown;
  const payload = await payloadAtVersion(env, { tenantId: e.tenantId, type: e.type, data, version: e.version ?? null }, pin);
  if (!payload.ok) return { ...e, versionError: payload.detail };
  return { ...e, data: JSON.stringify(payload.data), version: payload.version };
}
