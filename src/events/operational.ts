import type { Config } from "../config";
import type { EventTypeRow } from "../db/event-types";
import type { TenantRow } from "../db/tenants";
import { isOperator } from "../tenants/operator";
import { publishEvent } from "./publish";

/**
 * Hookgate's own event types (docs/webhooks-and-deliveries.md, "Operational
 * events"): published into the tenant's stream when its endpoints fail or
 * heal, listed in every catalog with `owner: "hookgate"`, never writable or
 * publishable through the API, and never delivered to `["*"]` subscriptions
 * (they must list them).
 */
export const RESERVED_PREFIX = "hookgate.";
/** The owner of the reserved types' catalog rows (never a tenant id: those start with ten_). */
export const HOOKGATE_OWNER = "hookgate";

export const OPERATIONAL_TYPES = {
  "hookgate.endpoint.disabled": "A webhook endpoint was disabled: its circuit breaker tripped, or it answered 410 Gone.",
  "hookgate.endpoint.recovered": "A disabled endpoint answered a probe with 2xx and is enabled again; its held deliveries go out.",
  "hookgate.delivery.failing": "A delivery's third attempt failed; it keeps retrying.",
  "hookgate.delivery.exhausted": "A delivery failed for good (its retries ran out, or its endpoint stayed down until give-up).",
} as const;

export type OperationalType = keyof typeof OPERATIONAL_TYPES;

export type OperationalData = {
  "hookgate.endpoint.disabled": { webhookId: string; url: string; reason: string; consecutiveFailures: number };
  "hookgate.endpoint.recovered": { webhookId: string; url: string; downtimeSeconds: number };
  "hookgate.delivery.failing": { deliveryId: string; webhookId: string; eventId: string; attempt: number; statusCode: number | null };
  "hookgate.delivery.exhausted": { deliveryId: string; webhookId: string; eventId: string; attempts: number };
};

/** Any name under `hookgate.`: reserved, whether or not it is one of the four. */
export const isReservedType = (name: string): boolean => name.startsWith(RESERVED_PREFIX);

export const isOperationalType = (name: string): name is OperationalType => Object.hasOwn(OPERATIONAL_TYPES, name);

const EPOCH = new Date(0);

/** The reserved types as catalog rows (no schema; they are never archived). */
export const operationalTypeRows = (): EventTypeRow[] =>
  Object.entries(OPERATIONAL_TYPES).map(([name, description]) => ({
    tenantId: HOOKGATE_OWNER,
    name,
    description,
    schema: null,
    deprecated: false,
    archivedAt: null,
    createdAt: EPOCH,
    updatedAt: EPOCH,
  }));

/**
 * Publishes one operational event for `owner` through the same operation
 * as any event (signed, retried, polled, operator endpoints included). Not
 * for the operator's own endpoints (it has no stream), and never about a
 * delivery of a `hookgate.*` event (no loops). A failure here is logged:
 * it must never change the outcome of the attempt that caused it.
 */
export async function emitOperational<T extends OperationalType>(
  env: Env,
  config: Config,
  owner: TenantRow | undefined,
  causeEventType: string | null,
  type: T,
  data: OperationalData[T],
): Promise<void> {
  if (!owner || isOperator(owner.id) || (causeEventType !== null && isReservedType(causeEventType))) return;
  try {
    await publishEvent(env, config, owner, { type, data, publisher: "hookgate" });
  } catch (err) {
    console.error(`operational event ${type} for ${owner.id} not published`, err);
  }
}
