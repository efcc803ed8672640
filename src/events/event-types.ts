import type { TenantOp } from "../auth/caller";
import { auditStatement } from "../db/audit";
import { changes, createDb } from "../db/client";
import {
  type EventTypePatch,
  type EventTypeRow,
  eventTypeWritten,
  getEventType,
  updateEventType,
  upsertEventTypeUnderQuota,
} from "../db/event-types";
import { ConflictError, NotFoundError, QuotaExceededError } from "../lib/errors";

/** Lowercase dotted names, case-sensitive: `invoice.paid`, `user.profile_updated`. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export type NewEventType = { name: string; description?: string; schema?: Record<string, unknown> };

/** Adds a type to the tenant's catalog (or brings back an archived one of that name). */
export async function createEventType(op: TenantOp, input: NewEventType): Promise<EventTypeRow> {
  const db = createDb(op.env.DB);
  const now = new Date();
  const row: EventTypeRow = {
    tenantId: op.tenant.id,
    name: input.name,
    description: input.description ?? null,
    schema: input.schema ?? null,
    deprecated: false,
    archivedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const [written] = await db.batch([
    upsertEventTypeUnderQuota(db, row, op.tenant.quotas.eventTypes),
    auditStatement(db, op.who, { action: "event_type.created", target: input.name }, eventTypeWritten(row)),
  ]);
  if (changes(written) !== 1) {
    const existing = await getEventType(db, op.tenant.id, input.name);
    if (existing && !existing.archivedAt) throw new ConflictError("duplicate_name", `An event type named ${input.name} already exists`);
    throw new QuotaExceededError("eventTypes", op.tenant.quotas.eventTypes, "event types");
  }
  return (await getEventType(db, op.tenant.id, input.name)) ?? row;
}

/** A type of the tenant's catalog, archived ones included; 404 otherwise. */
export async function findEventType(op: Pick<TenantOp, "env" | "tenant">, name: string): Promise<EventTypeRow> {
  const row = await getEventType(createDb(op.env.DB), op.tenant.id, name);
  if (!row) throw new NotFoundError("Event type");
  return row;
}

async function findLive(op: TenantOp, name: string): Promise<EventTypeRow> {
  const row = await findEventType(op, name);
  if (row.archivedAt) throw new NotFoundError("Event type");
  return row;
}

export async function changeEventType(
  op: TenantOp,
  name: string,
  patch: Pick<EventTypePatch, "description" | "schema" | "deprecated">,
): Promise<EventTypeRow> {
  const db = createDb(op.env.DB);
  const row = await findLive(op, name);
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as EventTypePatch;
  // The answer shows exactly what is stored: the old updatedAt when nothing changed.
  if (Object.keys(set).length === 0) return row;
  const updatedAt = new Date();
  await db.batch([
    updateEventType(db, op.tenant.id, name, { ...set, updatedAt }),
    auditStatement(db, op.who, { action: "event_type.updated", target: name, details: { fields: Object.keys(set) } }),
  ]);
  return { ...row, ...set, updatedAt };
}

/** Archives: the type can no longer be published; its events stay. */
export async function archiveEventType(op: TenantOp, name: string): Promise<void> {
  const db = createDb(op.env.DB);
  await findLive(op, name);
  const now = new Date();
  await db.batch([
    updateEventType(db, op.tenant.id, name, { archivedAt: now, updatedAt: now }),
    auditStatement(db, op.who, { action: "event_type.archived", target: name }),
  ]);
}
