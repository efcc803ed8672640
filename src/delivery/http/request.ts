import { brandedHeaderNames, brandedHeaderStart, DEFAULT_HEADER_PREFIX } from "../../common/branding";
import type { ManagedBy, Mode, WebhookFormat } from "../../db/schema";
import { VERSION } from "../../version";
import { headerHint, maskHeaderValue } from "./secrets";
import { signPayload } from "./sign";

/**
 * `tenantId` and `mode`: set only for an operator endpoint, which receives the events of many tenants (and maybe both modes).
 * `version`: the payload version `data` is, for a type that has versions.
 */
export type OutgoingEvent = { id: string; type: string; createdAt: Date; tenantId?: string; mode?: Mode; version?: string; data: unknown };

export type EndpointSettings = {
  format: WebhookFormat;
  headers: Record<string, string> | null;
  customFields: Record<string, string | number | boolean> | null;
  managedBy?: ManagedBy | null;
};

export type DeliveryRequest = { body: string; headers: Record<string, string> };

/** The operator's brand as a delivery carries it: `X-<headerPrefix>-*` and the User-Agent. */
export type DeliveryBrand = { headerPrefix: string; userAgent: string };
export const DEFAULT_DELIVERY_BRAND: DeliveryBrand = { headerPrefix: DEFAULT_HEADER_PREFIX, userAgent: `Hookgate/${VERSION}` };

/** The body of a delivery, per the endpoint's `format`; the event's tenant (for an operator endpoint) goes before `data`. */
export function deliveryBody(endpoint: EndpointSettings, event: OutgoingEvent): { body: string; contentType: string } {
  const createdAt = event.createdAt.toISOString();
  const custom = endpoint.customFields && Object.keys(endpoint.customFields).length > 0 ? endpoint.customFields : undefined;
  if (endpoint.format === "form") {
    const form = new URLSearchParams({
      id: event.id,
      type: event.type,
      createdAt,
      ...(event.version !== undefined && { version: event.version }),
      ...(event.tenantId !== undefined && { tenantId: event.tenantId }),
      ...(event.mode !== undefined && { mode: event.mode }),
      data: JSON.stringify(event.data),
    });
    for (const [k, v] of Object.entries(custom ?? {})) form.append(k, String(v));
    return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
  }
  const payload = {
    id: event.id,
    type: event.type,
    createdAt,
    ...(event.version !== undefined && { version: event.version }),
    ...(event.tenantId !== undefined && { tenantId: event.tenantId }),
    ...(event.mode !== undefined && { mode: event.mode }),
    data: event.data,
    ...(custom && { customFields: custom }),
  };
  return { body: JSON.stringify(payload), contentType: "application/json" };
}

/**
 * The whole signed request for one attempt: body, our headers under the
 * operator's prefix (`X-<headerPrefix>-*`, default `X-Webhook-*`), both
 * signature schemes (one signature per live secret; the Standard Webhooks
 * headers keep their names), then the endpoint's own headers (which
 * validation keeps from overriding ours; any under the prefix are dropped).
 */
export async function buildDeliveryRequest(input: {
  endpoint: EndpointSettings;
  event: OutgoingEvent;
  attempt: number;
  secrets: string[];
  brand?: DeliveryBrand;
  now?: number;
}): Promise<DeliveryRequest> {
  const brand = input.brand ?? DEFAULT_DELIVERY_BRAND;
  const names = brandedHeaderNames(brand.headerPrefix);
  const { body, contentType } = deliveryBody(input.endpoint, input.event);
  const timestamp = Math.floor((input.now ?? Date.now()) / 1000);
  const signatures = await signPayload({ secrets: input.secrets, eventId: input.event.id, timestamp, body });
  const start = brandedHeaderStart(brand.headerPrefix);
  const own = Object.entries(input.endpoint.headers ?? {}).filter(([n]) => !n.toLowerCase().startsWith(start));
  return {
    body,
    headers: {
      ...Object.fromEntries(own),
      "Content-Type": contentType,
      "User-Agent": brand.userAgent,
      [names.eventId]: input.event.id,
      [names.eventType]: input.event.type,
      ...(input.event.tenantId !== undefined && { [names.tenantId]: input.event.tenantId }),
      ...(input.event.mode !== undefined && { [names.mode]: input.event.mode }),
      ...(input.event.version !== undefined && { [names.version]: input.event.version }),
      [names.attempt]: String(input.attempt),
      [names.timestamp]: String(timestamp),
      [names.signature]: signatures.stripe,
      "webhook-id": input.event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatures.standard,
    },
  };
}

/**
 * Headers as stored in the attempt log: signatures redacted (under any
 * prefix: whatever `X-*-Signature` the brand named), and the endpoint's own
 * headers (`custom`, whose values are secrets) masked as reads mask them;
 * the other headers as sent.
 */
export function redactHeaders(headers: Record<string, string>, custom: Record<string, string> | null): Record<string, string> {
  const own = new Set(Object.keys(custom ?? {}).map((n) => n.toLowerCase()));
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const n = name.toLowerCase();
      if (isSignatureHeader(n)) return [name, "[redacted]"];
      return [name, own.has(n) ? maskHeaderValue(headerHint(value)) : value];
    }),
  );
}

/** `webhook-signature`, and `x-<prefix>-signature` whatever the prefix was when the attempt was made. */
const isSignatureHeader = (lower: string) => lower === "webhook-signature" || (lower.startsWith("x-") && lower.endsWith("-signature"));
