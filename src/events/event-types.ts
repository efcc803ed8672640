import type { TenantOp } from "../auth/caller";
import { auditStatement } from "../db/audit";
import { changes, createDb, runBatch } from "../db/client";
import type { Page } from "../db/cursor";
import { setNewestVersionSchema } from "../db/event-type-versions";
import {
  catalogOwners,
  type EventTypePatch,
  type EventTypeRow,
  eventTypeWritten,
  getEventType,
  getVisibleEventType,
  isNameTakenAcross,
  listEventTypes,
  updateEventType,
  upsertEventTypeUnderQuota,
} from "../db/event-types";
import type { EventTypeOwner } from "../db/schema";
import { ConflictError, ForbiddenError, NotFoundError, QuotaExceededError, ValidationError } from "../lib/errors";
import { schemaProblems } from "../lib/json-schema";
import { isOperator } from "../tenants/operator";
import { forgetCatalog } from "./catalog-cache";
import { HOOKGATE_OWNER, isReservedType, operationalTypeRows } from "./operational-types";

/** Lowercase dotted names, case-sensitive: `invoice.paid`, `user.profile_updated`. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export type NewEventType = { name: string; description?: string; schema?: Record<string, unknown> };

/** Who a type belongs to, as its readers see it. */
export const eventTypeOwner = (row: Pick<EventTypeRow, "tenantId">): EventTypeOwner =>
  row.tenantId === HOOKGATE_OWNER ? "hookgate" : isOperator(row.tenantId) ? "operator" : "tenant";

/** The audit actions of each catalog: the operator's land in its own log under their own names. */
const ACTIONS = {
  tenant: {
    created: "event_type.created",
    updated: "event_type.updated",
    archived: "event_type.archived",
    versionAdded: "event_type.version_added",
  },
  operator: {
    created: "operator_event_type.created",
    updated: "operator_event_type.updated",
    archived: "operator_event_type.deleted",
    versionAdded: "operator_event_type.version_added",
  },
} as const satisfies Record<Exclude<EventTypeOwner, "hookgate">, Record<string, string>>;
export const actionsOf = (op: TenantOp) => ACTIONS[isOperator(op.tenant.id) ? "operator" : "tenant"];

/** Hookgate's own types are in every catalog and nobody's to change (403). */
function assertNotReserved(name: string, verb: string): void {
  if (isReservedType(name)) {
    throw new ForbiddenError("reserved_event_type", `${name} is reserved for the platform's operational events; it cannot be ${verb}`);
  }
}

/**
 * A schema is compiled and checked when it is stored, so that publishing
 * against it later can only pass or fail with a 422, never crash or spin.
 */
export function assertUsableSchema(schema: Record<string, unknown> | null | undefined): void {
  if (!schema) return;
  const problems = schemaProblems(schema, "schema");
  if (problems.length > 0) throw new ValidationError(problems);
}

/**
 * Adds a type to the owner's catalog (or brings back an archived one of
 * that name). A tenant's type may not take a name of the operator's
 * catalog, nor the reverse: the insert itself checks it.
 */
export async function createEventType(op: TenantOp, input: NewEventType): Promise<EventTypeRow> {
  assertNotReserved(input.name, "created");
  assertUsableSchema(input.schema);
  const db = createDb(op.env.DB);
  const now = new Date();
  const row: EventTypeRow = {
    tenantId: op.tenant.id,
    name: input.name,
    description: input.description ?? null,
    schema: input.schema ?? null,
    deprecated: false,
    latestVersion: null,
    archivedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const [written] = await db.batch([
    upsertEventTypeUnderQuota(db, row, op.tenant.quotas.eventTypes),
    auditStatement(db, op.who, { action: actionsOf(op).created, target: input.name }, eventTypeWritten(row)),
  ]);
  if (changes(written) !== 1) {
    const existing = await getEventType(db, op.tenant.id, input.name);
    if (existing && !existing.archivedAt) throw new ConflictError("duplicate_name", `An event type named ${input.name} already exists`);
    if (await isNameTakenAcross(db, op.tenant.id, input.name)) {
      const holder = isOperator(op.tenant.id) ? "a tenant's catalog" : "the operator's catalog";
      throw new ConflictError("duplicate_name", `${input.name} is already the name of an event type in ${holder}`);
    }
    throw new QuotaExceededError("eventTypes", op.tenant.quotas.eventTypes, "event types");
  }
  forgetCatalog(op.tenant.id);
  return (await getEventType(db, op.tenant.id, input.name)) ?? row;
}

/** A type the caller sees (its own, or the operator's), archived ones included; 404 otherwise. */
export async function findEventType(op: Pick<TenantOp, "env" | "tenant">, name: string): Promise<EventTypeRow> {
  const reserved = operationalTypeRows().find((t) => t.name === name);
  if (reserved) return reserved;
  const row = await getVisibleEventType(createDb(op.env.DB), op.tenant.id, name);
  if (!row) throw new NotFoundError("Event type");
  return row;
}

/** The caller's catalog, by name: a tenant's own types and the operator's, on one cursor. */
export async function listCatalog(
  op: Pick<TenantOp, "env" | "tenant">,
  limit: number,
  opts: { afterName?: string; includeArchived: boolean },
): Promise<Page<EventTypeRow>> {
  const stored = await listEventTypes(createDb(op.env.DB), catalogOwners(op.tenant.id), limit, opts);
  // Hookgate's types join the stored ones in name order, on the same cursor (the name).
  const reserved = operationalTypeRows().filter((t) => opts.afterName === undefined || t.name > opts.afterName);
  const beyond = stored.next ? stored.next.id : null;
  const merged = [...stored.rows, ...reserved.filter((t) => beyond === null || t.name <= beyond)].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const kept = merged.slice(0, limit);
  const last = kept[kept.length - 1];
  const more = merged.length > limit || stored.next !== null;
  return { rows: kept, next: more && last ? { t: 0, id: last.name } : null };
}

/** A live type the caller owns: the operator's types are read-only to tenants (403). */
export async function findOwnLive(op: TenantOp, name: string): Promise<EventTypeRow> {
  assertNotReserved(name, "changed");
  const row = await findEventType(op, name);
  if (row.tenantId !== op.tenant.id) {
    throw new ForbiddenError("operator_event_type", `${name} belongs to the operator's catalog; only the operator can change it`);
  }
  if (row.archivedAt) throw new NotFoundError("Event type");
  return row;
}

export async function changeEventType(
  op: TenantOp,
  name: string,
  patch: Pick<EventTypePatch, "description" | "schema" | "deprecated">,
): Promise<EventTypeRow> {
  const db = createDb(op.env.DB);
  const row = await findOwnLive(op, name);
  assertUsableSchema(patch.schema);
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as EventTypePatch;
  // The answer shows exactly what is stored: the old updatedAt when nothing changed.
  if (Object.keys(set).length === 0) return row;
  const updatedAt = new Date();
  // A versioned type's schema is its newest version's: they change together.
  const newest = set.schema !== undefined && row.latestVersion;
  await runBatch(db, [
    updateEventType(db, op.tenant.id, name, { ...set, updatedAt }),
    ...(newest ? [setNewestVersionSchema(db, op.tenant.id, name, newest, set.schema ?? null)] : []),
    auditStatement(db, op.who, { action: actionsOf(op).updated, target: name, details: { fields: Object.keys(set) } }),
  ]);
  forgetCatalog(op.tenant.id);
  return { ...row, ...set, updatedAt };
}

/** Archives: the type can no longer be published; its events stay. */
export async function archiveEventType(op: TenantOp, name: string): Promise<void> {
  const db = createDb(op.env.DB);
  await findOwnLive(op, name);
  const now = new Date();
  await db.batch([
    updateEventType(db, op.tenant.id, name, { archivedAt: now, updatedAt: now }),
    auditStatement(db, op.who, { action: actionsOf(op).archived, target: name }),
  ]);
  forgetCatalog(op.tenant.id);
}
