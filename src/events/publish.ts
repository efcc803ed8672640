import type { Mode } from "../common/enums";
import type { Config } from "../config";
import { dataTenantOf } from "../data/owners";
import { placeEvent } from "../data/placement";
import type { DeliveryRecord, EventRecord, ShardPublishResult, SourceRequestRecord } from "../data/records";
import { locatedId, retentionDaysOf } from "../data/shard-map";
import { createDb } from "../db/client";
import { liveEventTypes } from "../db/event-types";
import type { TenantRow } from "../db/tenants";
import { cachedSubscribers } from "../db/webhook-store";
import { confirmHeldAtPublish, holdAtPublish, storedHeld } from "../delivery/breaker/breaker-publish";
import { type DispatchRuntime, dispatchDeliveries, planInline, preclaimLease } from "../delivery/engine/dispatch";
import { holdBackWaiters, orderedAmong, registerTurns, storeOrForget } from "../delivery/ordering/ordering";
import { sha256Hex } from "../lib/crypto";
import { ForbiddenError, ValidationError } from "../lib/errors";
import { validateAgainstSchema } from "../lib/json-schema";
import { shardStub } from "../objects";
import { isOperator, OPERATOR_ID, OPERATOR_TENANT } from "../tenants/operator";
import { findTenant } from "../tenants/tenants";
import { matchesFilter } from "../webhooks/filter";
import { cachedEventType } from "./catalog-cache";
import { isOperationalType, isReservedType } from "./operational-types";

/**
 * Who fires the event: the tenant itself (its key, its sources) or the
 * operator on its behalf. Only the operator fires the types of its own
 * catalog, so an endpoint can trust where they come from.
 */
export type Publisher = "tenant" | "operator" | "hookgate";

/** A source's request-log entry, written with the event (its id, status and event are set where it lands). */
export type RequestLogDraft = Omit<SourceRequestRecord, "id" | "status" | "eventId" | "rejection">;

export type PublishInput = {
  /** The mode the event belongs to: the publishing credential's (a source's own, the operator's `?mode=`). */
  mode: Mode;
  type: string;
  data: unknown;
  publisher: Publisher;
  idempotencyKey?: string;
  /** A repeat of the key answers with the first event even when its body differs (a sender's delivery id). */
  keyIdentifiesDelivery?: boolean;
  sourceId?: string;
  requestLog?: RequestLogDraft;
  /** Deliveries to an ordered subscription go one at a time per key, in acceptance order. */
  orderingKey?: string;
};
export type Published = { event: EventRecord; deliveries: DeliveryRecord[]; replayed: boolean; requestId?: string };

/**
 * Checks the type against the catalog the publisher may use, and `data`
 * against the type's schema; answers the payload version the data is (the
 * type's newest; null for an unversioned type).
 */
async function assertPublishable(env: Env, tenant: TenantRow, input: PublishInput): Promise<string | null> {
  // Hookgate's own types: only Hookgate publishes them (src/events/operational-types.ts).
  if (isReservedType(input.type) || input.publisher === "hookgate") {
    if (input.publisher === "hookgate" && isOperationalType(input.type)) return null;
    throw new ForbiddenError(
      "reserved_event_type",
      `${input.type} is reserved for the platform's operational events; it cannot be published`,
    );
  }
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
  return type.latestVersion;
}

/**
 * Publishes an event for `tenant`: checks it against the catalog and the
 * type's schema, then stores it (in its mode's shards) with one pending
 * delivery per enabled matching subscription of its mode (the tenant's own,
 * and the operator endpoints covering the tenant and the mode, whose deliveries are the operator's; a
 * subscription's filter decides too; one whose breaker is open gets its
 * delivery held until it heals), its idempotency claim and a source's
 * request-log entry in one transaction of one data shard, then starts the
 * first attempts (inline when `runtime` allows, else through the queue;
 * what they report goes through `runtime.ports`).
 * `deliveries` of the answer are the tenant's own. Of two concurrent
 * publishes with one key exactly one stores anything; the other gets the
 * first one's result. A crash after the commit leaves pending rows that the
 * shard's alarm re-enqueues: nothing accepted is lost.
 */
export async function publishEvent(
  env: Env,
  config: Config,
  tenant: TenantRow,
  input: PublishInput,
  runtime: DispatchRuntime,
): Promise<Published> {
  const version = await assertPublishable(env, tenant, input);
  const dataText = JSON.stringify(input.data);
  const now = new Date();
  const key = input.idempotencyKey;
  const place = placeEvent(dataTenantOf(tenant, input.mode), now.getTime(), key);
  const event: EventRecord = {
    id: locatedId("evt", place),
    tenantId: tenant.id,
    type: input.type,
    data: dataText,
    sourceId: input.sourceId ?? null,
    createdAt: now,
    seq: 0,
    orderingKey: input.orderingKey ?? null,
    version,
  };
  const receivers = (await cachedSubscribers(createDb(env.DB), tenant.id, input.mode)).filter(
    (w) =>
      // "*" means the catalog's types: operational events go only to subscriptions that list them.
      ((w.eventTypes.includes("*") && !isReservedType(input.type)) || w.eventTypes.includes(input.type)) &&
      matchesFilter(w.filter, { type: input.type, data: input.data }),
  );
  const plan = planInline(runtime, receivers);
  const planned: DeliveryRecord[] = receivers.map((w) => {
    const claimed = plan.preclaimed.has(w.id);
    return {
      // An operator endpoint's delivery is the operator's (never listed to the tenant); its id names the tenant whose shard holds it.
      id: locatedId("dlv", { ...place, ...(isOperator(w.tenantId) && { home: tenant.id }) }),
      tenantId: w.tenantId,
      eventTenantId: tenant.id,
      eventId: event.id,
      eventType: event.type,
      webhookId: w.id,
      status: "pending",
      // Claimed here when its first attempt runs inline: one write fewer, and no one else may take it.
      attempts: claimed ? 1 : 0,
      nextAttemptAt: claimed ? preclaimLease(config, now) : now,
      lastAttemptAt: claimed ? now : null,
      lastStatusCode: null,
      lastDurationMs: null,
      createdAt: now,
      updatedAt: now,
    };
  });
  // --- breaker --- A subscription whose breaker is open gets its delivery too, held until it heals.
  const byId = new Map(receivers.map((w) => [w.id, w]));
  const { rows: kept, held } = await holdAtPublish(env, planned, byId);
  // --- ordering --- Registered before the write, so no stored delivery is ever missing from its key's line.
  const turns = await registerTurns(env, kept, orderedAmong(receivers), event.orderingKey ?? null);
  const { rows, startable } = storedHeld(holdBackWaiters(kept, turns, plan.inline, now), held);
  const requestId = input.requestLog && locatedId("req", place);
  const requestHash = key && (await sha256Hex(`${input.type}\n${dataText}`));
  const result = await storeOrForget<ShardPublishResult>(env, rows, turns, () =>
    shardStub(env, place.name).publish({
      tenantId: tenant.id,
      bucket: place.bucket,
      retentionDays: retentionDaysOf(input.mode, config.eventRetentionDays),
      event,
      deliveries: rows,
      ...(key && {
        claim: {
          key,
          requestHash: requestHash as string,
          keyIdentifiesDelivery: input.keyIdentifiesDelivery === true,
          elsewhere: place.elsewhere,
        },
      }),
      ...(input.requestLog &&
        requestId && { sourceRequest: { ...input.requestLog, id: requestId, status: "accepted", rejection: null, eventId: event.id } }),
    }),
  );
  const logged = requestId ? { requestId } : {};
  if (result.kind === "reused") {
    throw new ValidationError(
      [{ path: "idempotencyKey", message: "was used within 24 h for a different request" }],
      "idempotency_key_reused",
    );
  }
  if (result.kind === "replayed") return { event: result.event, deliveries: result.deliveries, replayed: true, ...logged };
  await confirmHeldAtPublish(env, runtime.ports, rows, held, (d) => (isOperator(d.tenantId) ? OPERATOR_TENANT : tenant));
  await dispatchDeliveries(env, runtime, event, startable, byId, plan);
  return { event, deliveries: rows.filter((d) => d.tenantId === tenant.id), replayed: false, ...logged };
}

/** The operator publishes for one of its tenants (404 for an unknown one), exactly as the tenant would, its own types included. */
export async function publishForTenant(
  env: Env,
  config: Config,
  tenantId: string,
  input: Omit<PublishInput, "publisher">,
  runtime: DispatchRuntime,
): Promise<Published> {
  return publishEvent(env, config, await findTenant(env, tenantId), { ...input, publisher: "operator" }, runtime);
}
