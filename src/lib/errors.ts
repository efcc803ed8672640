import type { z } from "zod";

/**
 * The errors domain code throws: one type, `DomainError`, and its subclasses. Each has a stable
 * snake_case `code` (part of the API contract), a `kind` saying what sort of failure it is, the
 * status number that kind answers with, and the headers the error itself calls for (a 401's
 * challenge, a 429's or 503's Retry-After). Nothing here builds a response: src/http/problem.ts
 * turns any thrown error into one.
 */
export type ErrorKind =
  | "bad_request"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "gone"
  | "method_not_allowed"
  | "upgrade_required"
  | "conflict"
  | "too_large"
  | "unsupported_media_type"
  | "invalid"
  | "rate_limited"
  | "unavailable"
  | "upstream_failed"
  | "upstream_timeout"
  | "internal";

/** Every error code and its kind: the one list of codes. */
export const ERROR_CODES = {
  malformed_json: "bad_request",
  invalid_query: "bad_request",
  bad_request: "bad_request",
  too_deep: "bad_request",
  unauthorized: "unauthenticated",
  invalid_credential: "unauthenticated",
  credential_expired: "unauthenticated",
  credential_revoked: "unauthenticated",
  session_ended: "unauthenticated",
  invalid_signature: "unauthenticated",
  stale_timestamp: "unauthenticated",
  insufficient_scope: "forbidden",
  scope_escalation: "forbidden",
  restriction_escalation: "forbidden",
  mode_escalation: "forbidden",
  operator_locked: "forbidden",
  ip_not_allowed: "forbidden",
  api_access_disabled: "forbidden",
  managed_subscription: "forbidden",
  operator_event_type: "forbidden",
  reserved_event_type: "forbidden",
  credential_type_not_allowed: "forbidden",
  not_found: "not_found",
  portal_link_expired: "gone",
  method_not_allowed: "method_not_allowed",
  upgrade_required: "upgrade_required",
  quota_exceeded: "conflict",
  duplicate_name: "conflict",
  conflict: "conflict",
  replay_running: "conflict",
  not_verified: "conflict",
  payload_too_large: "too_large",
  unsupported_media_type: "unsupported_media_type",
  validation_failed: "invalid",
  reserved_scope: "invalid",
  idempotency_key_reused: "invalid",
  verification_failed: "invalid",
  unknown_event_type: "invalid",
  schema_mismatch: "invalid",
  rate_limited: "rate_limited",
  misconfigured: "unavailable",
  storage_busy: "unavailable",
  origin_unreachable: "upstream_failed",
  origin_timeout: "upstream_timeout",
  internal_error: "internal",
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The status of each kind: the answer carries it, and a webhook source logs what it answered. */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  gone: 410,
  method_not_allowed: 405,
  upgrade_required: 426,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  invalid: 422,
  rate_limited: 429,
  internal: 500,
  upstream_failed: 502,
  unavailable: 503,
  upstream_timeout: 504,
};

export type FieldError = { path: string; message: string; allowed?: readonly string[] };

/** Extra members of the problem document (RFC 9457 allows extensions). */
export type ErrorExtras = {
  errors?: FieldError[];
  requiredScope?: string;
  policy?: string;
  /** Seconds; also sent as `Retry-After` on 429 and 503. */
  retryAfter?: number;
  [key: string]: unknown;
};

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  /** The headers this error's answer carries beyond its content type. */
  readonly headers: Record<string, string> = {};
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: ErrorExtras = {},
  ) {
    super(detail);
    this.kind = ERROR_CODES[code];
    this.status = STATUS_OF_KIND[this.kind];
    // A webhook sender whose signature failed is not asked for a bearer credential.
    if (this.status === 401 && code !== "invalid_signature" && code !== "stale_timestamp")
      this.headers["www-authenticate"] = 'Bearer realm="hookgate"';
    if ((this.status === 429 || this.status === 503) && extras.retryAfter !== undefined)
      this.headers["retry-after"] = String(extras.retryAfter);
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string) {
    super("not_found", `${what} not found`);
  }
}

/** The tenant already has `limit` of a quota'd resource. */
export class QuotaExceededError extends DomainError {
  constructor(quota: string, limit: number, noun: string) {
    super("quota_exceeded", `This account may have at most ${limit} ${noun}`, { quota, limit });
  }
}

/** Input that parsed but breaks a rule; each error names its field. */
export class ValidationError extends DomainError {
  constructor(
    readonly errors: FieldError[],
    code:
      | "validation_failed"
      | "invalid_query"
      | "idempotency_key_reused"
      | "verification_failed"
      | "reserved_scope"
      | "unknown_event_type"
      | "schema_mismatch" = "validation_failed",
    extras: ErrorExtras = {},
  ) {
    const first = errors[0];
    super(code, first ? `${first.path || "body"}: ${first.message}` : "Request is invalid", { errors, ...extras });
  }
}

export class ForbiddenError extends DomainError {
  constructor(
    code: Extract<
      ErrorCode,
      | "insufficient_scope"
      | "scope_escalation"
      | "restriction_escalation"
      | "mode_escalation"
      | "operator_locked"
      | "ip_not_allowed"
      | "api_access_disabled"
      | "managed_subscription"
      | "operator_event_type"
      | "reserved_event_type"
      | "credential_type_not_allowed"
    >,
    detail: string,
    extras: ErrorExtras = {},
  ) {
    super(code, detail, extras);
  }
}

export class ConflictError extends DomainError {
  constructor(
    code: Extract<ErrorCode, "conflict" | "duplicate_name" | "replay_running" | "not_verified">,
    detail: string,
    extras: ErrorExtras = {},
  ) {
    super(code, detail, extras);
  }
}

/** 401. `reason` tells a malformed credential from an unknown one (the verify API names both). */
export class AuthenticationError extends DomainError {
  constructor(
    code: Extract<ErrorCode, "unauthorized" | "invalid_credential" | "credential_expired" | "credential_revoked" | "session_ended">,
    detail: string,
    readonly reason: "missing" | "malformed" | "unknown" | "revoked" | "expired" = code === "credential_revoked" || code === "session_ended"
      ? "revoked"
      : code === "credential_expired"
        ? "expired"
        : code === "unauthorized"
          ? "missing"
          : "unknown",
  ) {
    super(code, detail);
  }
}

/** RFC 6749 §5.2 error codes. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope";

/** A refused token request: 401 for `invalid_client` (with a Basic challenge), else 400, answered in RFC 6749's terms. */
export class OAuthError extends DomainError {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(error === "invalid_client" ? "invalid_credential" : "bad_request", description);
    this.headers["cache-control"] = "no-store";
    if (this.status === 401) this.headers["www-authenticate"] = 'Basic realm="hookgate"';
  }
}

/** Turns zod issues into field errors, naming the field and listing enum options. */
export function zodFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) => {
    // A field the body may not hold: one error per field, at its own path.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...issue.path, key].map(String).join("."), message: `unknown field "${key}"` }));
    }
    const path = issue.path.map(String).join(".");
    const out: FieldError = { path, message: issue.message };
    if (issue.code === "invalid_value" && "values" in issue) {
      out.allowed = issue.values.map(String);
      out.message = `must be one of: ${out.allowed.join(", ")}`;
    } else if (issue.code === "invalid_union" && "options" in issue && Array.isArray(issue.options)) {
      // A discriminated union's unknown discriminator (a source's verification scheme).
      out.allowed = issue.options.map(String);
      out.message = `must be one of: ${out.allowed.join(", ")}`;
    } else if (issue.code === "custom" && Array.isArray(issue.params?.allowed)) {
      // A refinement that knows the valid options passes them as `params.allowed`.
      out.allowed = (issue.params.allowed as unknown[]).map(String);
    }
    return out;
  });
}
