import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { changes, createDb, runBatch } from "../db/client";
import { type DeliveryRow, deliveriesOfEvent, insertDeliveryIf } from "../db/deliveries";
import { getVisibleEventType, liveEventTypes } from "../db/event-types";
import { claimHeldBy, claimIdempotencyKey, type EventRow, getEvent, getIdempotencyClaim, insertEventIf } from "../db/events";
import type { TenantRow } from "../db/tenants";
import { subscribersOf } from "../db/webhooks";
import { enqueueDeliveries } from "../delivery/queue";
import type { Env } from "../env";
import { newId, sha256Hex } from "../lib/crypto";
import { ForbiddenError, ValidationError } from "../lib/errors";
import { validateAgainstSchema } from "../lib/json-schema";
import { isOperator, OPERATOR_ID } from "../tenants/operator";
import { findTenant } from "../tenants/tenants";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Who fires the event: the tenant itself (its key, its sources) or the
 * operator on its behalf. Only the operator fires the types of its own
 * catalog, so an endpoint can trust where they come from.
 */
export type Publisher = "tenant" | "operator";

export type PublishInput = { type: string; data: unknown; publisher: Publisher; idempotencyKey?: string; sourceId?: string };
export type Published = { event: EventRow; deliveries: DeliveryRow[]; replayed: boolean };

/**
 * Publishes an event for `tenant`: checks it against the catalog (the
 * tenant's types and, for the operator, the operator's) and the type's
 * schema, then stores it with one pending delivery per enabled matching
 * subscription (the tenant's own, and the operator endpoints covering the
 * tenant, whose deliveries are the operator's) in one D1 transaction, and
 * enqueues the deliveries. `deliveries` of the answer are the tenant's own.
 * With an idempotency key, the key is claimed in the same transaction, so of
 * two concurrent publishes with one key exactly one stores anything; the
 * other gets the first one's result. A crash after the commit but before the
 * enqueue leaves pending rows that the sweep re-enqueues: nothing accepted
 * is lost.
 */
export async function publishEvent(env: Env, tenant: TenantRow, input: PublishInput): Promise<Published> {
  const db = createDb(env.DB);
  const type = await getVisibleEventType(db, tenant.id, input.type);
  if (type && isOperator(type.tenantId) && input.publisher !== "operator") {
    throw new ForbiddenError("operator_event_type", `${input.type} belongs to the operator's catalog; only the operator publishes it`);
  }
  if (!type || type.archivedAt) {
    const publishable = input.publisher === "operator" ? [tenant.id, OPERATOR_ID] : [tenant.id];
    const names = (await liveEventTypes(db, publishable)).map((t) => t.name);
    throw new ValidationError([{ path: "type", message: `${input.type} is not in the event catalog`, allowed: names.slice(0, 100) }]);
  }
  if (type.schema) {
    const errors = validateAgainstSchema(type.schema, input.data);
    if (errors.length > 0) throw new ValidationError(errors);
  }

  const dataText = JSON.stringify(input.data);
  const now = new Date();
  const event: Omit<EventRow, "seq"> = {
    id: newId("evt"),
    tenantId: tenant.id,
    type: input.type,
    data: dataText,
    sourceId: input.sourceId ?? null,
    createdAt: now,
  };
  const rows: DeliveryRow[] = (await subscribersOf(db, tenant.id, input.type)).map((w) => ({
    id: newId("dlv"),
    // An operator endpoint's delivery is the operator's: never listed to the tenant.
    tenantId: w.tenantId,
    eventId: event.id,
    eventType: event.type,
    webhookId: w.id,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastAttemptAt: null,
    lastStatusCode: null,
    createdAt: now,
    updatedAt: now,
  }));

  const key = input.idempotencyKey;
  const requestHash = key ? await sha256Hex(`${input.type}\n${dataText}`) : "";
  const statements: BatchItem<"sqlite">[] = [];
  if (key) {
    statements.push(
      claimIdempotencyKey(
        db,
        { tenantId: tenant.id, key, requestHash, eventId: event.id, createdAt: now },
        new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
      ),
    );
  }
  statements.push(insertEventIf(db, event, key ? claimHeldBy(tenant.id, key, event.id) : sql`1`));
  for (const d of rows) statements.push(insertDeliveryIf(db, d, event));
  const results = await runBatch(db, statements);

  if (key && changes(results[1]) === 0) {
    const claim = await getIdempotencyClaim(db, tenant.id, key);
    if (claim && claim.requestHash !== requestHash) {
      throw new ValidationError(
        [{ path: "idempotencyKey", message: "was used within 24 h for a different request" }],
        "idempotency_key_reused",
      );
    }
    const first = claim && (await getEvent(db, tenant.id, claim.eventId));
    if (first) return { event: first, deliveries: await deliveriesOfEvent(db, tenant.id, first.id), replayed: true };
  }
  await enqueueDeliveries(env, rows);
  return { event: { ...event, seq: 0 }, deliveries: rows.filter((d) => d.tenantId === tenant.id), replayed: false };
}

/** The operator publishes for one of its tenants (404 for an unknown one), exactly as the tenant would, its own types included. */
export async function publishForTenant(env: Env, tenantId: string, input: Omit<PublishInput, "publisher">): Promise<Published> {
  return publishEvent(env, await findTenant(env, tenantId), { ...input, publisher: "operator" });
}
