import { toHex } from "../lib/crypto";
import { DomainError } from "../lib/errors";

/** Who the gateway admitted: the identity headers tell the origin. */
export type GatewayIdentity = { tenantId: string; credentialId: string; scopes: readonly string[]; requestId: string };

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

/**
 * `X-Hookgate-Signature: t=<unix>,v1=<hex>`: HMAC-SHA256 keyed with
 * GATEWAY_SECRET over `<t>.<METHOD>.<path?query>.<tenant id>.<credential
 * id>.<request id>`, so the origin can trust the identity headers.
 */
export async function signGatewayRequest(
  secret: string,
  input: { timestamp: number; method: string; target: string; tenantId: string; credentialId: string; requestId: string },
): Promise<string> {
  const message = [input.timestamp, input.method.toUpperCase(), input.target, input.tenantId, input.credentialId, input.requestId].join(
    ".",
  );
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return `t=${input.timestamp},v1=${toHex(new Uint8Array(mac))}`;
}

/** The headers the origin gets: the caller's, minus credentials, hop-by-hop and any X-Hookgate-*, plus the signed identity. */
export async function upstreamHeaders(
  inbound: Headers,
  identity: GatewayIdentity,
  target: string,
  method: string,
  secret: string,
): Promise<Headers> {
  const out = new Headers();
  for (const [name, value] of inbound) {
    const n = name.toLowerCase();
    if (HOP_BY_HOP.has(n) || CREDENTIAL_HEADERS.has(n) || n.startsWith("x-hookgate-") || n === "host") continue;
    out.append(name, value);
  }
  const timestamp = Math.floor(Date.now() / 1000);
  out.set("X-Hookgate-Tenant-Id", identity.tenantId);
  out.set("X-Hookgate-Credential-Id", identity.credentialId);
  out.set("X-Hookgate-Scopes", identity.scopes.join(" "));
  out.set("X-Hookgate-Request-Id", identity.requestId);
  out.set(
    "X-Hookgate-Signature",
    await signGatewayRequest(secret, {
      timestamp,
      method,
      target,
      tenantId: identity.tenantId,
      credentialId: identity.credentialId,
      requestId: identity.requestId,
    }),
  );
  return out;
}

/**
 * Sends an admitted request to the origin (same method, path and query; the
 * body streamed, never buffered) and returns the origin's answer, streamed
 * back with its status and headers (hop-by-hop ones dropped). No answer
 * within `timeoutMs` is a 504, a failed connection a 502; neither says
 * anything about the origin's internals.
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
  for (const [name, value] of upstream.headers) if (!HOP_BY_HOP.has(name.toLowerCase())) out.append(name, value);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers: out });
}
