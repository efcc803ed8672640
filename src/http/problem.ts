import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { brandOrDefault } from "../branding/brand";
import { DEFAULT_PROBLEM_TYPE_BASE } from "../common/branding";
import { DomainError, type ErrorCode, OAuthError } from "../lib/errors";

/**
 * The one place where errors become HTTP: any thrown error becomes an RFC 9457 problem document
 * (a refused token request, RFC 6749's error object) with the status and headers the error
 * carries. Errors the domain did not raise answer a bare 500 that never echoes their message.
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

export type ErrorAnswer = { status: number; headers: Record<string, string>; body: Record<string, unknown> };

/**
 * The problem document of a domain error: its extras (errors, requiredScope, policy, retryAfter, …) ride along.
 * `type` is the operator's problem type base (the brand's) followed by the code's slug.
 */
export function problemBody(err: DomainError, requestId: string, typeBase: string = DEFAULT_PROBLEM_TYPE_BASE) {
  return {
    type: `${typeBase}${err.code.replaceAll("_", "-")}`,
    title: titles[err.status] ?? "Error",
    status: err.status,
    detail: err.detail,
    code: err.code,
    requestId,
    ...err.extras,
  };
}

/** A thrown value as the domain error it answers as; null for one nobody raised on purpose (a bug). */
export function asDomainError(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  if (isStorageContention(err)) return new DomainError("storage_busy", "Storage is busy; retry shortly", { retryAfter: 1 });
  return null;
}

/** Status, headers and body of the answer to `err`. */
export function errorAnswer(err: unknown, requestId: string, typeBase?: string): ErrorAnswer {
  const known = asDomainError(err) ?? new DomainError("internal_error", "An internal error occurred");
  if (known instanceof OAuthError) {
    const body = { error: known.error, error_description: known.description, requestId };
    return { status: known.status, headers: { "content-type": "application/json", ...known.headers }, body };
  }
  return {
    status: known.status,
    headers: { "content-type": "application/problem+json", ...known.headers },
    body: problemBody(known, requestId, typeBase),
  };
}

/** The answer to `err`, keeping headers already set on the context (X-Request-Id); typed under the operator's brand. */
export async function problemResponse(c: Context, err: unknown): Promise<Response> {
  const brand = await brandOrDefault((c.env as Env).DB);
  const { status, headers, body } = errorAnswer(err, (c.get("requestId") as string | undefined) ?? "", brand.problemTypeBase);
  c.set("errorCode", String(body.code ?? body.error));
  return c.body(JSON.stringify(body), status as 400, headers);
}

/** The app's `onError`: an error no one raised on purpose is logged once here, and answered without its message. */
export function handleError(err: unknown, c: Context): Promise<Response> {
  const known = asDomainError(err);
  if (!known) console.error(`[${c.get("requestId") ?? "-"}] unhandled error`, err);
  return problemResponse(c, known ?? err);
}

/** Hono's own validators and middleware throw these (malformed JSON, wrong media type). */
function fromHttpException(err: HTTPException): DomainError {
  if (err.status >= 500) return new DomainError("internal_error", "An internal error occurred");
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
