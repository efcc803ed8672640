import { ALERT_TYPES } from "../common/alerts";
import type { EventTypeRow } from "../db/event-types";
import type { DeliveryReports } from "../delivery/ports";
import type { CredentialAlerts } from "../ratelimit/alert-types";

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

/** Every operational event's data, by type: what delivery reports, and the credentials' alerts. */
export type OperationalReports = DeliveryReports & CredentialAlerts;

/**
 * Each type delivery reports (src/delivery/ports.ts) and each alert a
 * credential's gate raises (src/ratelimit/alert-types.ts), as the catalog
 * describes it.
 */
export const OPERATIONAL_TYPES = {
  "hookgate.endpoint.disabled": "A webhook endpoint was disabled: its circuit breaker tripped, or it answered 410 Gone.",
  "hookgate.endpoint.recovered": "A disabled endpoint answered a probe with 2xx and is enabled again; its held deliveries go out.",
  "hookgate.delivery.failing": "A delivery's third attempt failed; it keeps retrying.",
  "hookgate.delivery.exhausted": "A delivery failed for good (its retries ran out, or its endpoint stayed down until give-up).",
  "hookgate.endpoint.degraded":
    "An endpoint's success rate over the last hour fell below 90 % (at least 20 attempts), before its circuit breaker tripped.",
  "hookgate.credential.limit_approaching": "A credential used 80 % or more of one rate-limit bucket within one window.",
  "hookgate.credential.rate_limited": "A credential got its first 429 of a rate-limit window.",
  "hookgate.credential.expiring": "A credential expires in 7 days, or in 1 day.",
  "hookgate.credential.dormant": "A credential has not been used for 30 days (one never used: since its creation).",
} as const satisfies Record<keyof OperationalReports, string>;

export type OperationalType = keyof typeof OPERATIONAL_TYPES;

// Every alert the dashboard lists is one of these types (a renamed type fails to compile here).
ALERT_TYPES satisfies readonly OperationalType[];

/** Any name under `hookgate.`: reserved, whether or not it is one of Hookgate's types. */
export const isReservedType = (name: string): boolean => name.startsWith(RESERVED_PREFIX);

export const isOperationalType = (name: string): name is OperationalType => Object.hasOwn(OPERATIONAL_TYPES, name);

const EPOCH = new Date(0);

/** The reserved types as catalog rows (the alerts with their data's schema; never archived). */
export const operationalTypeRows = (): EventTypeRow[] =>
  Object.entries(OPERATIONAL_TYPES).map(([name, description]) => ({
    tenantId: HOOKGATE_OWNER,
    name,
    description,
    schema: ALERT_SCHEMAS[name] ?? null,
    deprecated: false,
    latestVersion: null,
    archivedAt: null,
    createdAt: EPOCH,
    updatedAt: EPOCH,
  }));

type Field = { type: string | string[]; format?: string; minimum?: number; maximum?: number };
const str: Field = { type: "string" };
const count: Field = { type: "integer", minimum: 0 };
const objectOf = (properties: Record<string, Field>) => ({
  type: "object",
  properties,
  required: Object.keys(properties),
});

/** The alerts' data, as JSON Schema, so a catalog documents what a receiver gets. */
const ALERT_SCHEMAS: Record<string, Record<string, unknown>> = {
  "hookgate.endpoint.degraded": objectOf({
    webhookId: str,
    url: str,
    successRate: { type: "number", minimum: 0, maximum: 1 },
    attempts: count,
    windowSeconds: count,
  }),
  "hookgate.credential.limit_approaching": objectOf({ credentialId: str, bucket: str, limit: count, used: count, windowSeconds: count }),
  "hookgate.credential.rate_limited": objectOf({ credentialId: str, bucket: str, limit: count, windowSeconds: count }),
  "hookgate.credential.expiring": objectOf({ credentialId: str, expiresAt: { type: "string", format: "date-time" } }),
  "hookgate.credential.dormant": objectOf({ credentialId: str, lastUsedAt: { type: ["string", "null"], format: "date-time" } }),
};
