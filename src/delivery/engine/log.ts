import type { TenantOp } from "../../auth/caller";
import { shardsHolding } from "../../data/owners";
import { objectOfId } from "../../data/placement";
import { bucketsBefore, newestFirst } from "../../data/reads";
import type { AttemptInsert, AttemptRecord, DeliveryFilter, DeliveryRecord, EventRecord } from "../../data/records";
import { locate, modeOf, modeOfId, retentionDaysOf } from "../../data/shard-map";
import type { Cursor, Page } from "../../db/cursor";
import { NotFoundError } from "../../lib/errors";
import { shardStub } from "../../objects";
import { deliveryBody } from "../http/request";

export type DeliveryLogFilter = Omit<DeliveryFilter, "owner"> & { tenantId?: string };

type Owner = Pick<TenantOp, "env" | "config" | "tenant" | "mode">;

/**
 * The owner's delivery log, newest first, across the shards that hold it
 * (the operator's: its endpoints' deliveries, kept with every tenant's
 * events, or one tenant's with `tenantId`), in the caller's mode.
 */
export async function listDeliveryLog(op: Owner, limit: number, filter: DeliveryLogFilter, after?: Cursor): Promise<Page<DeliveryRecord>> {
  const { tenantId, ...rest } = filter;
  const f: DeliveryFilter = { ...rest, owner: op.tenant.id };
  const holders = await shardsHolding(op.env, op.tenant, op.mode, tenantId);
  // An event id says where its deliveries are: one bucket, one shard (and another mode's event has none here).
  const at = f.eventId ? locate(f.eventId, "evt") : undefined;
  if (at === null || (at && modeOf(at) !== op.mode)) return { rows: [], next: null };
  const range = { ...(f.since && { since: f.since }), ...(f.until && { until: f.until }) };
  const buckets = at ? [at.bucket] : bucketsBefore(Date.now(), retentionDaysOf(op.mode, op.config.eventRetentionDays), range, after);
  return newestFirst({
    tenants: holders,
    buckets,
    limit,
    fetch: (name, need) => {
      if (at && !name.endsWith(`/${at.bucket}/${at.shard}`)) return Promise.resolve([]);
      return shardStub(op.env, name).listDeliveries(f, after ?? null, need);
    },
    position: (d) => ({ t: d.createdAt.getTime(), id: d.id }),
  });
}

/** A delivery of the owner in the caller's mode, or 404 (another owner's or another mode's id too: the id names an object of the caller's, which does not hold it). */
export async function findDelivery(op: Owner, id: string): Promise<DeliveryRecord> {
  const found = await lookUp(op, id);
  return found.delivery;
}

async function lookUp(op: Owner, id: string) {
  const where = locate(id, "dlv");
  // The operator's deliveries carry their tenant in the id; a tenant's live in its own shards.
  const home = where?.home ?? op.tenant.id;
  const object = where && objectOfId(home, id, "dlv", op.mode);
  const stub = object && shardStub(op.env, object.name);
  const delivery = stub ? await stub.getDelivery(id, op.tenant.id) : null;
  if (!stub || !delivery) throw new NotFoundError("Delivery");
  return { delivery, stub };
}

/** The body an attempt sent, rebuilt from its event (the payload is stored once, not per attempt). */
export function attemptWithBody(a: AttemptInsert, event: EventRecord | null): AttemptRecord {
  const { bodyShape, requestBody, ...rest } = a;
  if (requestBody !== null || !bodyShape || !event) return { ...rest, requestBody: requestBody ?? "" };
  const { body } = deliveryBody(
    { format: bodyShape.format, customFields: bodyShape.customFields, headers: null },
    {
      id: event.id,
      type: event.type,
      createdAt: event.createdAt,
      // An operator endpoint's body also named the event's mode, which its id says.
      ...(bodyShape.tenantId !== undefined && { tenantId: bodyShape.tenantId, mode: modeOfId(event.id) }),
      ...(bodyShape.version !== undefined && { version: bodyShape.version }),
      data: JSON.parse(event.data) as unknown,
    },
  );
  return { ...rest, requestBody: body };
}

/** A delivery of the owner with every attempt, in order. */
export async function deliveryWithAttempts(op: Owner, id: string): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] }> {
  const { delivery, stub } = await lookUp(op, id);
  const { attempts, event } = await stub.attemptsOf(delivery.id);
  return { delivery, attempts: attempts.map((a) => attemptWithBody(a, event)) };
}
