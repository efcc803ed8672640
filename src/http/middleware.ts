import type { MiddlewareHandler } from "hono";
import { loadConfig } from "../env";
import { ApiError } from "../errors";
import { randomBase62 } from "../lib/crypto";
import type { AppEnv } from "./context";

/** Largest request body we accept (SPEC §1): 256 KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a sane inbound `X-Request-Id`, else generates one; sets it on every response. */
export const requestId = (): MiddlewareHandler<AppEnv> =>
  async function requestIdMiddleware(c, next) {
    const inbound = c.req.header("x-request-id");
    const id = inbound && SANE_REQUEST_ID.test(inbound) ? inbound : `req_${randomBase62(22)}`;
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  };

/** Parses config once; a missing or bad secret answers 503 instead of crashing. */
export const configGuard = (): MiddlewareHandler<AppEnv> =>
  async function configMiddleware(c, next) {
    const result = loadConfig(c.env);
    if (!result.ok) {
      throw new ApiError(
        "misconfigured",
        "Hookgate is not configured: the operator must set its secrets",
        {},
        { "retry-after": "60" },
      );
    }
    c.set("config", result.config);
    await next();
  };

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

export type BodyKind = "json" | "form" | "any";

/**
 * Reads the request body up front with a hard byte limit, whatever
 * Content-Length claims (or when it is absent), then checks its media type.
 * The bytes are left in Hono's body cache, so validators parse them from there.
 */
export const readBody = (kind: BodyKind = "json"): MiddlewareHandler<AppEnv> =>
  async function readBodyMiddleware(c, next) {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS" || !c.req.raw.body) {
      return next();
    }
    const declared = Number(c.req.header("content-length"));
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw tooLarge();
    const bytes = await readLimited(c.req.raw.body, MAX_BODY_BYTES);
    if (bytes.byteLength === 0) {
      // An empty body is an empty object: the validator then names missing fields.
      // Either way the stream is consumed, so handlers must read the cache.
      setBodyCache(c.req.bodyCache, "text", kind === "json" ? "{}" : "");
      return next();
    }
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (kind === "json") {
      if (!JSON_TYPE.test(mediaType)) {
        throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
      }
      const text = new TextDecoder().decode(bytes);
      try {
        JSON.parse(text);
      } catch (e) {
        throw new ApiError("malformed_json", `Request body is not valid JSON: ${(e as Error).message}`);
      }
      setBodyCache(c.req.bodyCache, "text", text);
    } else if (kind === "form" && mediaType !== "application/x-www-form-urlencoded") {
      throw new ApiError("unsupported_media_type", "Content-Type must be application/x-www-form-urlencoded");
    }
    setBodyCache(c.req.bodyCache, "arrayBuffer", bytes.buffer as ArrayBuffer);
    return next();
  };

/**
 * Hono's body cache holds promises at run time, although its type says
 * values; this is the one place that relies on it.
 */
function setBodyCache(cache: object, key: "text" | "arrayBuffer", value: string | ArrayBuffer): void {
  (cache as Record<string, Promise<unknown>>)[key] = Promise.resolve(value);
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `Request body must be at most ${MAX_BODY_BYTES} bytes`);
}

/** Reads a stream into memory, failing as soon as it passes `limit` bytes. */
export async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
