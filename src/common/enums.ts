/**
 * The enumerations Hookgate declares once: the zod enums of the API, the
 * D1 columns, the data shards' rows, the dashboard and the CLI all derive
 * from these. Dependency-free (src/common/ imports nothing else), so the
 * browser and Node bundles take them without any server package.
 */

// ---- Modes ----
/** Every tenant has two modes; a credential, and everything it makes, belongs to one. */
export const MODES = ["live", "test"] as const;
export type Mode = (typeof MODES)[number];

// ---- Limit modes ----
/**
 * How a tenant's gateway requests and verify calls are admitted: `exact` asks the credential's
 * object every time; `approximate` decides in the isolate and reconciles in the background.
 */
export const LIMIT_MODES = ["exact", "approximate"] as const;
export type LimitMode = (typeof LIMIT_MODES)[number];

// ---- Deliveries and attempts (stored in the data shards, src/data/) ----
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

// version_transform: the event's data could not be downgraded to the subscription's payload version (nothing was sent).
export const ATTEMPT_ERRORS = ["timeout", "dns", "connection", "tls", "redirect", "http", "version_transform"] as const;
export type AttemptError = (typeof ATTEMPT_ERRORS)[number];

// ---- Subscriptions (webhooks) ----
export const WEBHOOK_FORMATS = ["json", "form"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
export const WEBHOOK_ORDERINGS = ["none", "key"] as const;
export type WebhookOrdering = (typeof WEBHOOK_ORDERINGS)[number];
/** The tools that may manage a subscription (then only `isEnabled` changes through the API). */
export const MANAGED_BY = ["zapier", "n8n", "make", "cli"] as const;
export type ManagedBy = (typeof MANAGED_BY)[number];
/** A `hookgate listen` session's subscription (url `cli:<lsn_id>`), created only by GET /v1/listen. */
export const LISTEN_MANAGED_BY = "cli" satisfies ManagedBy;

// ---- Event types ----
/** Who a catalog type belongs to, as tenants see it: their own, or the operator's (stored under its owner id). */
// "hookgate": the reserved operational types (src/events/operational-types.ts), never stored in D1.
export const EVENT_TYPE_OWNERS = ["tenant", "operator", "hookgate"] as const;
export type EventTypeOwner = (typeof EVENT_TYPE_OWNERS)[number];

// ---- Payload versions ----
/** The operations of an RFC 6902 JSON Patch, as a version's `downgrade` holds them. */
export const PATCH_OPS = ["add", "remove", "replace", "move", "copy", "test"] as const;
export type PatchOperation = { op: (typeof PATCH_OPS)[number]; path: string; from?: string; value?: unknown };

// ---- Incoming webhooks (sources) ----
export const VERIFICATION_SCHEMES = [
  "hmac",
  "stripe",
  "github",
  "meta",
  "shopify",
  "slack",
  "standard-webhooks",
  "twilio",
  "basic",
  "api-key",
] as const;
export type VerificationScheme = (typeof VERIFICATION_SCHEMES)[number];

/** A source's verification settings, its secret fields left out (they are sealed in `secretEnc`). */
export type SourceVerification = {
  scheme: VerificationScheme;
  header?: string;
  algorithm?: "sha1" | "sha256" | "sha512";
  encoding?: "hex" | "base64";
  prefix?: string;
  username?: string;
};
export type SourceDedupe = { header: string } | { path: string };
export type SourceResponse = { status: number; body?: string; contentType?: string };

export const SOURCE_REQUEST_STATUSES = ["accepted", "rejected", "duplicate"] as const;
export type SourceRequestStatus = (typeof SOURCE_REQUEST_STATUSES)[number];
export const SOURCE_REJECTIONS = [
  "invalid_signature",
  "stale_timestamp",
  "bad_body",
  "too_large",
  "unsupported_media_type",
  "unknown_event_type",
  "schema_mismatch",
  "rate_limited",
] as const;
export type SourceRejection = (typeof SOURCE_REJECTIONS)[number];

// ---- Bulk replays (src/replays/) ----
export const REPLAY_STATES = ["running", "done", "cancelled"] as const;
/** The delivery statuses a replay may pick (a pending delivery is already on its way). */
export const REPLAYABLE_STATUSES = ["failed", "succeeded", "cancelled"] as const;
export type ReplayableStatus = (typeof REPLAYABLE_STATUSES)[number];
