import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { OAuthError } from "./auth/oauth-token";
import { DomainError, type ErrorCode, type ErrorExtras, STATUS_OF_KIND } from "./lib/errors";
import { RateLimitedError } from "./ratelimit/limits";

/**
 * The one place where errors become HTTP: a domain error's kind picks the
 * status, and every error response is an RFC 9457 problem document.
 */

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  410: "Gone",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export const statusOf = (err: DomainError): number => STATUS_OF_KIND[err.kind];

export function problemBody(err: DomainError, requestId: string) {
  const status = statusOf(err);
  return {
    type: `https://hookgate.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: titles[status] ?? "Error",
    status,
    detail: err.detail,
    code: err.code as ErrorCode,
    requestId,
    ...(err.extras as ErrorExtras),
  };
}

/** The problem response for `err`, keeping headers already set on the context (X-Request-Id). */
export function problemResponse(c: Context, err: DomainError): Response {
  const status = statusOf(err);
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  // A webhook sender whose signature failed is not asked for a bearer credential.
  if (status === 401 && err.code !== "invalid_signature" && err.code !== "stale_timestamp")
    headers["www-authenticate"] = 'Bearer realm="hookgate"';
  if ((status === 429 || status === 503) && err.extras.retryAfter !== undefined) {
    headers["retry-after"] = String(err.extras.retryAfter);
  }
  if (err instanceof RateLimitedError) Object.assign(headers, err.headers);
  return c.body(JSON.stringify(problemBody(err, (c.get("requestId") as string | undefined) ?? "")), status as 400, headers);
}

/** The app's `onError`: known errors become their problem, anything else a bare 500. */
export function handleError(err: unknown, c: Context): Response {
  if (err instanceof DomainError) return problemResponse(c, err);
  if (err instanceof OAuthError) return oauthErrorResponse(c, err);
  if (err instanceof HTTPException) return problemResponse(c, fromHttpException(err));
  if (isStorageContention(err)) {
    return problemResponse(c, new DomainError("storage_busy", "Storage is busy; retry shortly", { retryAfter: 1 }));
  }
  // Logged once here; the body never echoes internal messages.
  console.error(`[${c.get("requestId") ?? "-"}] unhandled error`, err);
  return problemResponse(c, new DomainError("internal_error", "An internal error occurred"));
}

/** RFC 6749 §5.2: `{error, error_description}`, 401 for `invalid_client`, else 400. */
function oauthErrorResponse(c: Context, err: OAuthError): Response {
  const status = err.error === "invalid_client" ? 401 : 400;
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store" };
  if (status === 401) headers["www-authenticate"] = 'Basic realm="hookgate"';
  const body = { error: err.error, error_description: err.description, requestId: c.get("requestId") };
  return c.body(JSON.stringify(body), status, headers);
}

/** Hono's own validators and middleware throw these (malformed JSON, wrong media type). */
function fromHttpException(err: HTTPException): DomainError {
  const code: ErrorCode =
    err.status === 400
      ? "malformed_json"
      : err.status === 413
        ? "payload_too_large"
        : err.status === 415
          ? "unsupported_media_type"
          : "bad_request";
  return new DomainError(code, err.message || "Bad request");
}

function isStorageContention(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /SQLITE_BUSY|database is locked|D1_ERROR: .*(overloaded|timeout)|Durable Object is overloaded|Network connection lost/i.test(msg);
}
