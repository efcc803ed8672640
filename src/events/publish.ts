import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { changes, createDb, runBatch } from "../db/client";
import { type DeliveryRow, deliveriesOfEvent, insertDeliveryIf } from "../db/deliveries";
import { liveEventTypes } from "../db/event-types";
import { claimHeldBy, claimIdempotencyKey, type EventRow, getEvent, getIdempotencyClaim, insertEventIf } from "../db/events";
import type { TenantRow } from "../db/tenants";
import { dispatchDeliveries, type InlineRuntime, planInline, preclaimLease } from "../delivery/dispatch";
import type { Env } from "../env";
import { newId, sha256Hex } from "../lib/crypto";
import { ForbiddenError, ValidationError } from "../lib/errors";
import { validateAgainstSchema } from "../lib/json-schema";
import { isOperator, OPERATOR_ID } from "../tenants/operator";
import { findTenant } from "../tenants/tenants";
import { matchesFilter } from "../webhooks/filter";
import { cachedEventType, cachedSubscribers } from "./catalog-cache";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Who fires the event: the tenant itself (its key, its sources) or the
 * operator on its behalf. Only the operator fires the types of its own
 * catalog, so an endpoint can trust where they come from.
 */
export type Publisher = "tenant" | "operator";

export type PublishInput = {
  type: string;
  data: unknown;
  publisher: Publisher;
  idempotencyKey?: string;
  /** A repeat of the key answers with the first event even when its body differs (a sender's delivery id). */
  keyIdentifiesDelivery?: boolean;
  sourceId?: string;
};
export type Published = { event: EventRow; deliveries: DeliveryRow[]; replayed: boolean };

/**
 * Publishes an event for `tenant`: checks it against the catalog (the
 * tenant's types and, for the operator, the operator's) and the type's
 * schema, then stores it with one pending delivery per enabled matching
 * subscription (the tenant's own, and the operator endpoints covering the
 * tenant, whose deliveries are the operator's; a subscription's filter
 * decides too) in one D1 transaction, then starts their first attempts
 * (inline when `runtime` allows, else through the queue). `deliveries` of the answer are the tenant's own.
 * With an idempotency key, the key is claimed in the same transaction, so of
 * two concurrent publishes with one key exactly one stores anything; the
 * other gets the first one's result. A crash after the commit but before
 * the first attempts leaves pending rows that the sweep re-enqueues: nothing
 * accepted is lost.
 */
export async function publishEvent(env: Env, tenant: TenantRow, input: PublishInput, runtime?: InlineRuntime): Promise<Published> {
  const db = createDb(env.DB);
  const type = await cachedEventType(db, tenant.id, input.type);
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
  const receivers = (await cachedSubscribers(db, tenant.id)).filter(
    (w) =>
      (w.eventTypes.includes("*") || w.eventTypes.includes(input.type)) && matchesFilter(w.filter, { type: input.type, data: input.data }),
  );
  const plan = planInline(runtime, receivers);
  const rows: DeliveryRow[] = receivers.map((w) => {
    const claimed = runtime !== undefined && plan.preclaimed.has(w.id);
    return {
      id: newId("dlv"),
      // An operator endpoint's delivery is the operator's: never listed to the tenant.
      tenantId: w.tenantId,
      eventId: event.id,
      eventType: event.type,
      webhookId: w.id,
      status: "pending",
      // Claimed here when its first attempt runs inline: one write fewer, and no one else may take it.
      attempts: claimed ? 1 : 0,
      nextAttemptAt: claimed && runtime ? preclaimLease(runtime.config, now) : now,
      lastAttemptAt: claimed ? now : null,
      lastStatusCode: null,
      createdAt: now,
      updatedAt: now,
    };
  });

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
    if (claim && claim.requestHash !== requestHash && !input.keyIdentifiesDelivery) {
      throw new ValidationError(
        [{ path: "idempotencyKey", message: "was used within 24 h for a different request" }],
        "idempotency_key_reused",
      );
    }
    const first = claim && (await getEvent(db, tenant.id, claim.eventId));
    if (first) return { event: first, deliveries: await deliveriesOfEvent(db, tenant.id, first.id), replayed: true };
  }
  const stored = { ...event, seq: 0 };
  await dispatchDeliveries(env, runtime, stored, rows, new Map(receivers.map((w) => [w.id, w])), plan);
  return { event: stored, deliveries: rows.filter((d) => d.tenantId === tenant.id), replayed: false };
}

/** The operator publishes for one of its tenants (404 for an unknown one), exactly as the tenant would, its own types included. */
export async function publishForTenant(
  env: Env,
  tenantId: string,
  input: Omit<PublishInput, "publisher">,
  runtime?: InlineRuntime,
): Promise<Published> {
  return publishEvent(env, await findTenant(env, tenantId), { ...input, publisher: "operator" }, runtime);
}
