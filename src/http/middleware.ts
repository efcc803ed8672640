import type { Context, MiddlewareHandler } from "hono";
import { loadConfig } from "../config";
import { randomBase62 } from "../lib/crypto";
import { DomainError } from "../lib/errors";
import { jsonTooDeep } from "../lib/json";
import { bodyTooLarge, readLimited } from "../lib/read-limited";
import { INTAKE_CSP } from "../sources/answer-type";
import type { AppEnv } from "./context";

/** Largest request body we accept: 256 KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

// At most 128 of these: anything else (spaces, quotes, colons, markup) is replaced, never echoed.
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Echoes a sane inbound `X-Request-Id`, else makes one up, and sets it on
 * every response, with `X-Content-Type-Options: nosniff`; every answer
 * under `/in/` (a tenant's text, a sender's echo, or an error) also gets a
 * sandboxing Content-Security-Policy. Mounted first, so the headers are
 * stamped on whatever comes back: a route's answer, an error, a 404, a
 * Response a handler built itself, or the gateway's proxied one.
 */
export const requestId = (): MiddlewareHandler<AppEnv> =>
  async function requestIdMiddleware(c, next) {
    const inbound = c.req.header("x-request-id");
    const id = inbound && SANE_REQUEST_ID.test(inbound) ? inbound : `req_${randomBase62(22)}`;
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    await next();
    const headers: [string, string][] = [
      ["X-Request-Id", id],
      ["X-Content-Type-Options", "nosniff"],
    ];
    if (c.req.path === "/in" || c.req.path.startsWith("/in/")) headers.push(["Content-Security-Policy", INTAKE_CSP]);
    stamp(c, headers);
  };

function stamp(c: Context<AppEnv>, headers: [string, string][]): void {
  try {
    for (const [name, value] of headers) c.res.headers.set(name, value);
  } catch {
    // A fetched Response has immutable headers: answer with a copy (never a WebSocket upgrade's, which cannot be copied).
    if (c.res.status === 101) return;
    c.res = new Response(c.res.body, c.res);
    for (const [name, value] of headers) c.res.headers.set(name, value);
  }
}

/** Parses config once; a missing or bad secret answers 503 instead of crashing. */
export const configGuard = (): MiddlewareHandler<AppEnv> =>
  async function configMiddleware(c, next) {
    const result = loadConfig(c.env);
    if (!result.ok) {
      throw new DomainError("misconfigured", "Hookgate is not configured: the operator must set its secrets", {
        retryAfter: 60,
      });
    }
    c.set("config", result.config);
    await next();
  };

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** `json`: the API's bodies. `raw`: only the size limit (the token endpoint parses its form itself, to answer in RFC 6749's terms). */
export type BodyKind = "json" | "raw";

/**
 * Reads the request body with a hard byte limit counted while streaming,
 * then checks its media type, JSON syntax and nesting depth, before any
 * validator sees it. Mount it after authentication, so an anonymous caller
 * makes us read nothing.
 *
 * Hono's `bodyLimit` would do the counting, but it trusts a Content-Length
 * header when one is sent; this counts the bytes that actually arrive. Like
 * `bodyLimit`, it hands the bytes on by replacing `c.req.raw`.
 */
export const readBody = (kind: BodyKind = "json"): MiddlewareHandler<AppEnv> =>
  async function readBodyMiddleware(c, next) {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    const declared = Number(c.req.header("content-length"));
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw bodyTooLarge(MAX_BODY_BYTES);
    const bytes = c.req.raw.body ? await readLimited(c.req.raw.body, MAX_BODY_BYTES) : new Uint8Array(0);
    // No Content-Type is fine only with no body; a wrong one is refused either way.
    const declaredType = c.req.header("content-type");
    const mediaType = (declaredType ?? "").split(";")[0]!.trim().toLowerCase();
    const typed = declaredType !== undefined || bytes.byteLength > 0;
    if (kind === "raw") {
      c.req.raw = new Request(c.req.raw, { body: bytes });
      return next();
    }
    if (typed && !JSON_TYPE.test(mediaType)) {
      throw new DomainError("unsupported_media_type", "Content-Type must be application/json");
    }
    // An empty body is an empty object: the validator then names the missing fields.
    const text = bytes.byteLength === 0 ? "{}" : new TextDecoder().decode(bytes);
    if (jsonTooDeep(text)) throw new DomainError("too_deep", "JSON nested deeper than 64 levels is not accepted");
    c.req.raw = new Request(c.req.raw, { body: text, headers: withJsonType(c.req.raw.headers) });
    try {
      // Parsed once here; Hono keeps the result for the route's validator.
      await c.req.json();
    } catch (e) {
      throw new DomainError("malformed_json", `Request body is not valid JSON: ${(e as Error).message}`);
    }
    return next();
  };

/** An empty body may come without a Content-Type; the validator needs one to read "{}". */
function withJsonType(headers: Headers): Headers {
  if (JSON_TYPE.test((headers.get("content-type") ?? "").split(";")[0]!.trim())) return headers;
  const out = new Headers(headers);
  out.set("content-type", "application/json");
  return out;
}
