import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";

/** Stable error codes and the HTTP status each maps to. */
export const errorStatus = {
  malformed_json: 400,
  invalid_query: 400,
  bad_request: 400,
  unauthorized: 401,
  invalid_credential: 401,
  credential_expired: 401,
  credential_revoked: 401,
  insufficient_scope: 403,
  scope_escalation: 403,
  ip_not_allowed: 403,
  api_access_disabled: 403,
  managed_subscription: 403,
  not_found: 404,
  method_not_allowed: 405,
  quota_exceeded: 409,
  duplicate_name: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  idempotency_key_reused: 422,
  verification_failed: 422,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 503,
  storage_busy: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export type FieldError = { path: string; message: string; allowed?: readonly string[] };

/** Extra members of a problem document (RFC 9457 allows extensions). */
export type ProblemExtras = {
  errors?: FieldError[];
  requiredScope?: string;
  policy?: string;
  retryAfter?: number;
  [key: string]: unknown;
};

/**
 * The one error type of the API. Throw it anywhere; `problemResponse` turns it
 * into `application/problem+json` in one place.
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = errorStatus[code];
  }

  static notFound(what: string): ApiError {
    return new ApiError("not_found", `${what} not found`);
  }

  /** 409: the tenant already has `limit` of a quota'd resource. */
  static quota(quota: "apiKeys" | "oauthClients" | "webhooks" | "sources" | "eventTypes", limit: number, noun: string): ApiError {
    return new ApiError("quota_exceeded", `This account may have at most ${limit} ${noun}`, { quota, limit });
  }

  static validation(errors: FieldError[], code: ErrorCode = "validation_failed"): ApiError {
    const first = errors[0];
    const detail = first ? `${first.path || "body"}: ${first.message}` : "Request is invalid";
    return new ApiError(code, detail, { errors });
  }
}

/** Turns zod issues into `errors[]`, naming the field and listing enum options. */
export function zodFieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const out: FieldError = { path, message: issue.message };
    if (issue.code === "invalid_value" && "values" in issue) {
      out.allowed = issue.values.map(String);
      out.message = `must be one of: ${out.allowed.join(", ")}`;
    } else if (issue.code === "custom" && Array.isArray(issue.params?.allowed)) {
      // A refinement that knows the valid options passes them as `params.allowed`.
      out.allowed = (issue.params.allowed as unknown[]).map(String);
    }
    return out;
  });
}

export function problemBody(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extras: ProblemExtras = {},
) {
  const status = errorStatus[code];
  return {
    type: `https://hookgate.dev/problems/${code.replaceAll("_", "-")}`,
    title: titles[status] ?? "Error",
    status,
    detail,
    code,
    requestId,
    ...extras,
  };
}

export function problemResponse(c: Context, err: ApiError): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "";
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    ...err.headers,
  };
  if (err.status === 401) headers["www-authenticate"] ??= 'Bearer realm="hookgate"';
  return new Response(JSON.stringify(problemBody(err.code, err.detail, requestId, err.extras)), {
    status: err.status,
    headers,
  });
}

/** The app's `onError`: known errors become their problem, anything else a bare 500. */
export function handleError(err: unknown, c: Context): Response {
  if (err instanceof ApiError) return problemResponse(c, err);
  if (err instanceof HTTPException) {
    const code: ErrorCode =
      err.status === 400 ? "malformed_json" : err.status === 413 ? "payload_too_large" : "bad_request";
    return problemResponse(c, new ApiError(code, err.message || "Bad request"));
  }
  if (isStorageContention(err)) {
    return problemResponse(
      c,
      new ApiError("storage_busy", "Storage is busy; retry shortly", { retryAfter: 1 }, { "retry-after": "1" }),
    );
  }
  // Logged once here; the body never echoes internal messages.
  console.error(`[${c.get("requestId") ?? "-"}] unhandled error`, err);
  return problemResponse(c, new ApiError("internal_error", "An internal error occurred"));
}

function isStorageContention(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /SQLITE_BUSY|database is locked|D1_ERROR: .*(overloaded|timeout)|Durable Object is overloaded|Network connection lost/i.test(
    msg,
  );
}
