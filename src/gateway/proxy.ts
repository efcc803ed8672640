import type { Mode } from "../common/enums";
import { toHex } from "../lib/crypto";
import { DomainError } from "../lib/errors";

/** Who the gateway admitted: the identity headers tell the origin. */
export type GatewayIdentity = {
  tenantId: string;
  credentialId: string;
  scopes: readonly string[];
  requestId: string;
  /** The credential's mode (`X-Hookgate-Mode`, covered by the v2 signature). */
  mode: Mode;
};

/** Hop-by-hop headers (RFC 9110 §7.6.1) never cross a proxy. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
]);
/** The caller's credential never reaches the origin. */
const CREDENTIAL_HEADERS = new Set(["authorization", "x-api-key"]);

/**
 * The names a message's `Connection` header lists (RFC 9110 §7.6.1): hop-by-hop
 * for this message alone, so a proxy drops them along with the standard ones.
 */
function connectionNamed(headers: Headers): Set<string> {
  const named = new Set(HOP_BY_HOP);
  for (const token of (headers.get("connection") ?? "").split(",")) {
    const name = token.trim().toLowerCase();
    if (name) named.add(name);
  }
  return named;
}

/**
 * True for a name an origin could take for one of the identity headers: any
 * `X-Hookgate-*`, also spelled with `_` (servers that fold `_` into `-`, as
 * CGI-style frameworks do, would read `X_Hookgate_Scopes` as `X-Hookgate-Scopes`).
 */
const isIdentityLike = (name: string) => name.toLowerCase().replaceAll("_", "-").startsWith("x-hookgate-");

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message))));
}

export type SignedRequest = {
  timestamp: number;
  method: string;
  target: string;
  tenantId: string;
  credentialId: string;
  requestId: string;
  /** As sent in X-Hookgate-Scopes: space-separated. */
  scopes: string;
  mode: Mode;
};

/**
 * `X-Hookgate-Signature: t=<unix>,v1=<hex>,v2=<hex>`, both HMAC-SHA256 keyed
 * with GATEWAY_SECRET. v1 (kept for origins that check it) covers
 * `<t>.<METHOD>.<path?query>.<tenant id>.<credential id>.<request id>`, which
 * a path holding dots lets one read more than one way. v2 covers the lines
 * `v2`, t, METHOD, path?query, tenant id, credential id, request id, scopes
 * and mode joined by `\n`: no field can hold a newline, so it reads one way
 * only, and it also vouches for the scopes and the mode.
 */
export async function signGatewayRequest(secret: string, input: SignedRequest): Promise<string> {
  const method = input.method.toUpperCase();
  const v1 = [input.timestamp, method, input.target, input.tenantId, input.credentialId, input.requestId].join(".");
  const v2 = [
    "v2",
    input.timestamp,
    method,
    input.target,
    input.tenantId,
    input.credentialId,
    input.requestId,
    input.scopes,
    input.mode,
  ].join("\n");
  const [v1Hex, v2Hex] = await Promise.all([hmacHex(secret, v1), hmacHex(secret, v2)]);
  return `t=${input.timestamp},v1=${v1Hex},v2=${v2Hex}`;
}

/**
 * The headers the origin gets: the caller's, minus its credential, the
 * hop-by-hop ones (and those its Connection header names) and anything that
 * reads as X-Hookgate-*, plus the signed identity.
 */
export async function upstreamHeaders(
  inbound: Headers,
  identity: GatewayIdentity,
  target: string,
  method: string,
  secret: string,
): Promise<Headers> {
  const out = new Headers();
  const hop = connectionNamed(inbound);
  for (const [name, value] of inbound) {
    const n = name.toLowerCase();
    if (hop.has(n) || CREDENTIAL_HEADERS.has(n) || isIdentityLike(n) || n === "host") continue;
    out.append(name, value);
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const scopes = identity.scopes.join(" ");
  out.set("X-Hookgate-Tenant-Id", identity.tenantId);
  out.set("X-Hookgate-Credential-Id", identity.credentialId);
  out.set("X-Hookgate-Scopes", scopes);
  out.set("X-Hookgate-Request-Id", identity.requestId);
  out.set("X-Hookgate-Mode", identity.mode);
  out.set(
    "X-Hookgate-Signature",
    await signGatewayRequest(secret, {
      timestamp,
      method,
      target,
      tenantId: identity.tenantId,
      credentialId: identity.credentialId,
      requestId: identity.requestId,
      scopes,
      mode: identity.mode,
    }),
  );
  return out;
}

/**
 * Sends an admitted request to the origin (same method, path and query; the
 * body streamed, never buffered) and returns the origin's answer, streamed
 * back with its status and headers (hop-by-hop ones, and those its
 * Connection header names, dropped). No answer within `timeoutMs` is a 504,
 * a failed connection a 502; neither says anything about the origin's
 * internals.
 */
export async function forwardToOrigin(
  request: Request,
  origin: string,
  identity: GatewayIdentity,
  opts: { secret: string; timeoutMs: number },
): Promise<Response> {
  const url = new URL(request.url);
  const target = `${url.pathname}${url.search}`;
  const headers = await upstreamHeaders(request.headers, identity, target, request.method, opts.secret);
  const controller = new AbortController();
  // Only the wait for the origin's headers is timed: a long streamed answer may take as long as it needs.
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  let upstream: Response;
  try {
    upstream = await fetch(`${origin}${target}`, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? null : request.body,
      redirect: "manual",
      signal: controller.signal,
    });
  } catch {
    if (controller.signal.aborted) throw new DomainError("origin_timeout", `The API did not answer within ${opts.timeoutMs} ms`);
    throw new DomainError("origin_unreachable", "The API could not be reached");
  } finally {
    clearTimeout(timer);
  }
  const out = new Headers();
  const hop = connectionNamed(upstream.headers);
  for (const [name, value] of upstream.headers) if (!hop.has(name.toLowerCase())) out.append(name, value);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}
