/**
 * `hookgate/verify`: checks a Hookgate delivery in a receiver and returns its event.
 *
 * Hookgate signs every delivery twice, and this accepts either:
 * - `X-Webhook-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` (Stripe's scheme; `X-<headerPrefix>-Signature`
 *   where the operator set its own header prefix): HMAC-SHA256 over
 *   `<t>.<body>`, keyed with the whole secret string as UTF-8;
 * - `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>[ v1,<base64>…]` (Standard
 *   Webhooks): HMAC-SHA256 over `<id>.<t>.<body>`, keyed with the bytes the base64 after `whsec_`
 *   encodes (the UTF-8 bytes of the whole secret when it is not `whsec_` + padded base64).
 * During a secret rotation a header carries one signature per live secret: any match verifies.
 *
 * WebCrypto only (`globalThis.crypto.subtle`): runs in Node ≥ 20, Workers, Deno, Bun and browsers.
 */

export { type WebhookEvent, WebhookVerificationError, type WebhookVerificationReason } from "./event.js";

import { bodyBytes, parseEvent, type WebhookEvent, WebhookVerificationError } from "./event.js";

/** Request headers: a `Headers`, or a plain object such as Node's `req.headers` (looked up case-insensitively). */
export type WebhookHeaders = Headers | Record<string, string | readonly string[] | undefined>;

export interface VerifyWebhookOptions {
  /** The subscription's signing secret (`whsec_…`); several during your own rotation: any of them verifies. */
  secret: string | readonly string[];
  headers: WebhookHeaders;
  /** The raw body exactly as received (not re-serialized JSON). */
  body: string | Uint8Array | ArrayBuffer;
  /** How far the signed timestamp may be from now, either way (default 300 s). `Infinity` turns the check off. */
  toleranceSeconds?: number;
  /**
   * The deployment's delivery header prefix: deliveries carry `X-<headerPrefix>-Signature` (default
   * `Webhook`, i.e. `X-Webhook-Signature`). The Standard Webhooks headers are the same under any prefix.
   */
  headerPrefix?: string;
}

/**
 * The delivery header prefix of a deployment that set none (`X-Webhook-Signature`). This package
 * ships alone, so it keeps its own copy of the server's rule; a unit test keeps the two equal.
 */
export const DEFAULT_HEADER_PREFIX = "Webhook";
export const HEADER_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$/;

const encoder = new TextEncoder();
const SECRET_PREFIX = "whsec_";
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const TIMESTAMP = /^\d{1,15}$/;

type Scheme = {
  name: "stripe" | "standard";
  timestamp: number;
  /** The signed message minus the body: `<t>.` or `<id>.<t>.` */
  prefix: string;
  signatures: Uint8Array[];
};

/**
 * Verifies a delivery's signature and timestamp and returns its event; throws
 * `WebhookVerificationError` (see `reason`) otherwise.
 *
 * ```ts
 * const event = await verifyWebhook({ secret: process.env.HOOKGATE_SECRET, headers: req.headers, body: rawBody });
 * // A deployment with its own header prefix (X-Acme-Signature):
 * const branded = await verifyWebhook({ secret, headers: req.headers, body: rawBody, headerPrefix: "Acme" });
 * ```
 */
export async function verifyWebhook<TData = unknown>(options: VerifyWebhookOptions): Promise<WebhookEvent<TData>> {
  const { headers, toleranceSeconds = 300 } = options;
  const secrets = typeof options.secret === "string" ? [options.secret] : [...(options.secret ?? [])];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError("verifyWebhook needs the subscription's signing secret (whsec_…).");
  }
  if (!(toleranceSeconds >= 0)) throw new TypeError("verifyWebhook's toleranceSeconds must be a number ≥ 0.");
  const prefix = options.headerPrefix ?? DEFAULT_HEADER_PREFIX;
  if (typeof prefix !== "string" || !HEADER_PREFIX_PATTERN.test(prefix)) {
    throw new TypeError("verifyWebhook's headerPrefix must be letters and digits joined by single hyphens (e.g. Acme).");
  }
  const signatureHeader = `X-${prefix}-Signature`;
  const body = bodyBytes(options.body);

  const schemes = [standardScheme(headers), stripeScheme(headers, signatureHeader.toLowerCase())].filter((s): s is Scheme => s !== null);
  if (schemes.length === 0) {
    throw new WebhookVerificationError(
      "missing_signature",
      `No signature: expected ${signatureHeader}, or webhook-id, webhook-timestamp and webhook-signature.`,
    );
  }

  let verified: Scheme | undefined;
  for (const scheme of schemes) {
    if (await matchesAny(scheme, secrets, body)) {
      verified = scheme;
      break;
    }
  }
  if (!verified) {
    throw new WebhookVerificationError("invalid_signature", "No signature matches this body with the secret given.");
  }
  const age = Math.floor(Date.now() / 1000) - verified.timestamp;
  if (Math.abs(age) > toleranceSeconds) {
    throw new WebhookVerificationError(
      "stale_timestamp",
      `The signature's timestamp is ${Math.abs(age)} s in the ${age > 0 ? "past" : "future"} (tolerance ${toleranceSeconds} s).`,
    );
  }
  return parseEvent<TData>(body, header(headers, "content-type"));
}

// ---------------------------------------------------------------- headers

function headerValues(headers: WebhookHeaders, name: string): string[] {
  if (typeof (headers as Headers)?.get === "function") {
    const value = (headers as Headers).get(name);
    return value === null ? [] : [value];
  }
  const out: string[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (typeof value === "string") out.push(value);
    else for (const v of value) out.push(v);
  }
  return out;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const values = headerValues(headers, name);
  return values.length === 0 ? undefined : values.join(", ");
}

/** `t=<unix>,v1=<hex>,v1=<hex>`: every v1 counts; other schemes (v0, …) are ignored. */
function stripeScheme(headers: WebhookHeaders, name: string): Scheme | null {
  let timestamp: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const value of headerValues(headers, name)) {
    for (const part of value.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const key = part.slice(0, eq).trim();
      const val = part.slice(eq + 1).trim();
      if (key === "t" && TIMESTAMP.test(val)) timestamp ??= Number(val);
      else if (key === "v1" && HEX_SHA256.test(val)) signatures.push(fromHex(val));
    }
  }
  if (timestamp === undefined || signatures.length === 0) return null;
  return { name: "stripe", timestamp, prefix: `${timestamp}.`, signatures };
}

/** `webhook-signature: v1,<base64> v1,<base64>` with `webhook-id` and `webhook-timestamp`. */
function standardScheme(headers: WebhookHeaders): Scheme | null {
  const id = header(headers, "webhook-id");
  const t = header(headers, "webhook-timestamp")?.trim();
  if (!id || !t || !TIMESTAMP.test(t)) return null;
  const signatures: Uint8Array[] = [];
  for (const value of headerValues(headers, "webhook-signature")) {
    // Space-separated; Node joins a repeated header's values with ", ", hence the trailing commas.
    for (const part of value.split(/\s+/)) {
      const comma = part.indexOf(",");
      if (comma < 0 || part.slice(0, comma) !== "v1") continue;
      const bytes = fromStrictBase64(part.slice(comma + 1).replace(/,$/, ""));
      if (bytes?.length === 32) signatures.push(bytes);
    }
  }
  if (signatures.length === 0) return null;
  return { name: "standard", timestamp: Number(t), prefix: `${id}.${t}.`, signatures };
}

// ---------------------------------------------------------------- signatures

async function matchesAny(scheme: Scheme, secrets: string[], body: Uint8Array): Promise<boolean> {
  const prefix = encoder.encode(scheme.prefix);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix, 0);
  message.set(body, prefix.length);
  let matched = false;
  // Every secret and every signature is compared, so the time taken says nothing about which matched.
  for (const secret of secrets) {
    const key = await crypto.subtle.importKey("raw", keyBytes(scheme.name, secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
    for (const signature of scheme.signatures) if (constantTimeEqual(expected, signature)) matched = true;
  }
  return matched;
}

function keyBytes(scheme: Scheme["name"], secret: string): Uint8Array<ArrayBuffer> {
  if (scheme === "standard" && secret.startsWith(SECRET_PREFIX)) {
    const decoded = fromStrictBase64(secret.slice(SECRET_PREFIX.length));
    if (decoded && decoded.length > 0) return decoded;
  }
  return new Uint8Array(encoder.encode(secret));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function fromStrictBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text === "" || !STRICT_BASE64.test(text)) return null;
  return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
}
