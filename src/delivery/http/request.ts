import type { ManagedBy, WebhookFormat } from "../../db/schema";
import { VERSION } from "../../version";
import { headerHint, maskHeaderValue } from "./secrets";
import { signPayload } from "./sign";

/** `tenantId`: set only for an operator endpoint, which receives the events of many tenants. */
export type OutgoingEvent = { id: string; type: string; createdAt: Date; tenantId?: string; data: unknown };

export type EndpointSettings = {
  format: WebhookFormat;
  headers: Record<string, string> | null;
  customFields: Record<string, string | number | boolean> | null;
  managedBy?: ManagedBy | null;
};

export type DeliveryRequest = { body: string; headers: Record<string, string> };

/** The body of a delivery, per the endpoint's `format`; the event's tenant (for an operator endpoint) goes before `data`. */
export function deliveryBody(endpoint: EndpointSettings, event: OutgoingEvent): { body: string; contentType: string } {
  const createdAt = event.createdAt.toISOString();
  const custom = endpoint.customFields && Object.keys(endpoint.customFields).length > 0 ? endpoint.customFields : undefined;
  if (endpoint.format === "form") {
    const form = new URLSearchParams({
      id: event.id,
      type: event.type,
      createdAt,
      ...(event.tenantId !== undefined && { tenantId: event.tenantId }),
      data: JSON.stringify(event.data),
    });
    for (const [k, v] of Object.entries(custom ?? {})) form.append(k, String(v));
    return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
  }
  const payload = {
    id: event.id,
    type: event.type,
    createdAt,
    ...(event.tenantId !== undefined && { tenantId: event.tenantId }),
    data: event.data,
    ...(custom && { customFields: custom }),
  };
  return { body: JSON.stringify(payload), contentType: "application/json" };
}

/**
 * The whole signed request for one attempt: body, our headers, both
 * signature schemes (one signature per live secret), then the endpoint's own
 * headers (which validation keeps from overriding ours).
 */
export async function buildDeliveryRequest(input: {
  endpoint: EndpointSettings;
  event: OutgoingEvent;
  attempt: number;
  secrets: string[];
  now?: number;
}): Promise<DeliveryRequest> {
  const { body, contentType } = deliveryBody(input.endpoint, input.event);
  const timestamp = Math.floor((input.now ?? Date.now()) / 1000);
  const signatures = await signPayload({ secrets: input.secrets, eventId: input.event.id, timestamp, body });
  return {
    body,
    headers: {
      ...input.endpoint.headers,
      "Content-Type": contentType,
      "User-Agent": `Hookgate/${VERSION}`,
      "X-Webhook-Event-Id": input.event.id,
      "X-Webhook-Event-Type": input.event.type,
      ...(input.event.tenantId !== undefined && { "X-Webhook-Tenant-Id": input.event.tenantId }),
      "X-Webhook-Attempt": String(input.attempt),
      "X-Webhook-Timestamp": String(timestamp),
      "X-Webhook-Signature": signatures.stripe,
      "webhook-id": input.event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatures.standard,
    },
  };
}

const SIGNATURE_HEADERS = new Set(["x-webhook-signature", "webhook-signature"]);

/**
 * Headers as stored in the attempt log: signatures redacted, and the
 * endpoint's own headers (`custom`, whose values are secrets) masked as reads
 * mask them; Hookgate's other headers as sent.
 */
export function redactHeaders(headers: Record<string, string>, custom: Record<string, string> | null): Record<string, string> {
  const own = new Set(Object.keys(custom ?? {}).map((n) => n.toLowerCase()));
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const n = name.toLowerCase();
      if (SIGNATURE_HEADERS.has(n)) return [name, "[redacted]"];
      return [name, own.has(n) ? maskHeaderValue(headerHint(value)) : value];
    }),
  );
}
