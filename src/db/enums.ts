/**
 * The enumerations Hookgate declares once: the zod enums of the API, the
 * D1 columns and the data shards' rows all derive from these.
 */

// ---- Deliveries and attempts (stored in the data shards, src/data/) ----
export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const ATTEMPT_ERRORS = ["timeout", "dns", "connection", "tls", "redirect", "http"] as const;
export type AttemptError = (typeof ATTEMPT_ERRORS)[number];

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
