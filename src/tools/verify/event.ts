/** The event a verified delivery carries, and why a delivery was refused (hookgate/verify). */

const encoder = new TextEncoder();
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

export function bodyBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === "string") return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError("verifyWebhook needs the raw body as a string, Uint8Array/Buffer or ArrayBuffer (not parsed JSON).");
}

export function parseEvent<TData>(body: Uint8Array, contentType: string | undefined): WebhookEvent<TData> {
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
