import type { EventTypeRow } from "../db/event-types";
import type { DeliveryReport } from "../delivery/ports";

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

/** Each type delivery reports (src/delivery/ports.ts), as the catalog describes it. */
export const OPERATIONAL_TYPES = {
  "hookgate.endpoint.disabled": "A webhook endpoint was disabled: its circuit breaker tripped, or it answered 410 Gone.",
  "hookgate.endpoint.recovered": "A disabled endpoint answered a probe with 2xx and is enabled again; its held deliveries go out.",
  "hookgate.delivery.failing": "A delivery's third attempt failed; it keeps retrying.",
  "hookgate.delivery.exhausted": "A delivery failed for good (its retries ran out, or its endpoint stayed down until give-up).",
} as const satisfies Record<DeliveryReport, string>;

export type OperationalType = keyof typeof OPERATIONAL_TYPES;

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
