/**
 * `hookgate/verify`: checks a Hookgate delivery in a receiver and returns its event.
 *
 * Hookgate signs every delivery twice, and this accepts either:
 * - `X-Webhook-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` (Stripe's scheme): HMAC-SHA256 over
 *   `<t>.<body>`, keyed with the whole secret string as UTF-8;
 * - `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>[ v1,<base64>…]` (Standard
 *   Webhooks): HMAC-SHA256 over `<id>.<t>.<body>`, keyed with the bytes the base64 after `whsec_`
 *   encodes (the UTF-8 bytes of the whole secret when it is not `whsec_` + padded base64).
 * During a secret rotation a header carries one signature per live secret: any match verifies.
 *
 * WebCrypto only (`globalThis.crypto.subtle`): runs in Node ≥ 20, Workers, Deno, Bun and browsers.
 */

/** Why a delivery was refused. */
export type WebhookVerificationReason =
  /** Neither scheme's headers are present, or they hold no usable timestamp and signature. */
  | "missing_signature"
  /** No signature matches the body with the secret(s) given. */
  | "invalid_signature"
  /** The signature matches, but its timestamp is further from now than `toleranceSeconds`. */
  | "stale_timestamp"
  /** The signature matches, but the body is not a Hookgate event. */
  | "malformed_body";

export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The event a delivery carries. */
export interface WebhookEvent<TData = unknown> {
  /** The event id (`evt_…`): the same on every retry, so use it to deduplicate. */
  id: string;
  type: string;
  /** ISO 8601. */
  createdAt: string;
  data: TData;
  /** The subscription's custom fields, when it has any. */
  customFields?: Record<string, string | number | boolean>;
  /** The tenant the event belongs to: set only on deliveries to an operator endpoint. */
  tenantId?: string;
}

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
}

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
 * ```
 */
export async function verifyWebhook<TData = unknown>(options: VerifyWebhookOptions): Promise<WebhookEvent<TData>> {
  const { headers, toleranceSeconds = 300 } = options;
  const secrets = typeof options.secret === "string" ? [options.secret] : [...(options.secret ?? [])];
  if (secrets.length === 0 || secrets.some((s) => typeof s !== "string" || s === "")) {
    throw new TypeError("verifyWebhook needs the subscription's signing secret (whsec_…).");
  }
  if (!(toleranceSeconds >= 0)) throw new TypeError("verifyWebhook's toleranceSeconds must be a number ≥ 0.");
  const body = bodyBytes(options.body);

  const schemes = [standardScheme(headers), stripeScheme(headers)].filter((s): s is Scheme => s !== null);
  if (schemes.length === 0) {
    throw new WebhookVerificationError(
      "missing_signature",
      "No Hookgate signature: expected X-Webhook-Signature, or webhook-id, webhook-timestamp and webhook-signature.",
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
function stripeScheme(headers: WebhookHeaders): Scheme | null {
  let timestamp: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const value of headerValues(headers, "x-webhook-signature")) {
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

// ---------------------------------------------------------------- body

function bodyBytes(body: VerifyWebhookOptions["body"]): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError("verifyWebhook needs the raw body as a string, Uint8Array/Buffer or ArrayBuffer (not parsed JSON).");
}

function parseEvent<TData>(body: Uint8Array, contentType: string | undefined): WebhookEvent<TData> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new WebhookVerificationError("malformed_body", "The body is not UTF-8 text.");
  }
  const isForm = contentType?.toLowerCase().includes("application/x-www-form-urlencoded") ?? !text.trimStart().startsWith("{");
  return isForm ? parseFormEvent<TData>(text) : parseJsonEvent<TData>(text);
}

function parseJsonEvent<TData>(text: string): WebhookEvent<TData> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError("malformed_body", "The body is not JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new WebhookVerificationError("malformed_body", "The body is not a JSON object.");
  }
  const o = parsed as Record<string, unknown>;
  for (const field of ["id", "type", "createdAt"] as const) {
    if (typeof o[field] !== "string") throw new WebhookVerificationError("malformed_body", `The body has no string "${field}".`);
  }
  if (!("data" in o)) throw new WebhookVerificationError("malformed_body", 'The body has no "data".');
  const event: WebhookEvent<TData> = {
    id: o.id as string,
    type: o.type as string,
    createdAt: o.createdAt as string,
    data: o.data as TData,
  };
  if (typeof o.tenantId === "string") event.tenantId = o.tenantId;
  if (typeof o.customFields === "object" && o.customFields !== null && !Array.isArray(o.customFields)) {
    event.customFields = o.customFields as Record<string, string | number | boolean>;
  }
  return event;
}

/** A form delivery: `id, type, createdAt, tenantId?, data` (JSON text), then each custom field as text. */
function parseFormEvent<TData>(text: string): WebhookEvent<TData> {
  const form = new URLSearchParams(text);
  const id = form.get("id");
  const type = form.get("type");
  const createdAt = form.get("createdAt");
  const dataText = form.get("data");
  if (id === null || type === null || createdAt === null || dataText === null) {
    throw new WebhookVerificationError("malformed_body", "The form body lacks id, type, createdAt or data.");
  }
  let data: TData;
  try {
    data = JSON.parse(dataText) as TData;
  } catch {
    throw new WebhookVerificationError("malformed_body", 'The form body\'s "data" is not JSON.');
  }
  const event: WebhookEvent<TData> = { id, type, createdAt, data };
  const tenantId = form.get("tenantId");
  if (tenantId !== null) event.tenantId = tenantId;
  const custom: Record<string, string> = {};
  for (const [k, v] of form) if (!["id", "type", "createdAt", "tenantId", "data"].includes(k)) custom[k] = v;
  if (Object.keys(custom).length > 0) event.customFields = custom;
  return event;
}
