import { brandedHeaderStart } from "../common/branding";
import type { Db } from "../db/client";
import { catalogOwners, getVisibleEventType, liveEventTypes, liveNamesAmong } from "../db/event-types";
import { unknownTenantIds } from "../db/tenants";
import type { WebhookRow } from "../db/webhooks";
import { checkWebhookUrl } from "../delivery/http/url-guard";
import { isOperationalType } from "../events/operational-types";
import { type FieldError, ValidationError } from "../lib/errors";
import { isOperator, OPERATOR_ID } from "../tenants/operator";

/** The webhook URL rules (HTTPS, no credentials, no internal hosts); 422 naming the rule. */
export function assertDeliverableUrl(raw: string, allowInsecure: boolean): string {
  const result = checkWebhookUrl(raw, { allowInsecure });
  if (!result.ok) throw new ValidationError([{ path: "url", message: result.reason }]);
  return result.url.toString();
}

/** An endpoint's own headers may not use the deliveries' prefix (`X-<headerPrefix>-*`, the operator's brand): 422 naming each. */
export function assertOwnHeaders(headers: Record<string, string> | null | undefined, headerPrefix: string): void {
  const start = brandedHeaderStart(headerPrefix);
  const clash = Object.keys(headers ?? {}).filter((n) => n.toLowerCase().startsWith(start));
  if (clash.length > 0) {
    throw new ValidationError(
      clash.map((n) => ({ path: `headers.${n}`, message: `is reserved: ${start}* headers are set on every delivery` })),
    );
  }
}

/**
 * `eventTypes` must be `["*"]` or names of live types the subscriber can
 * receive: for a tenant, its catalog (its own types and the operator's);
 * for an operator endpoint, the operator's catalog and the catalogs of the
 * tenants it covers (`tenantIds` null: every tenant).
 */
export async function assertKnownEventTypes(db: Db, ownerId: string, names: string[], tenantIds: string[] | null = null): Promise<void> {
  if (names.includes("*")) {
    if (names.length > 1) throw new ValidationError([{ path: "eventTypes", message: '"*" already matches every type; send it alone' }]);
    return;
  }
  const operatorEndpoint = isOperator(ownerId);
  const catalog = (await liveEventTypes(db, catalogOwners(ownerId))).map((t) => t.name);
  const known = operatorEndpoint ? await liveNamesAmong(db, names, tenantIds ? [OPERATOR_ID, ...tenantIds] : null) : new Set(catalog);
  // Hookgate's operational types are in every catalog (a subscription must list them to receive them).
  const unknown = names.map((name, i) => ({ name, i })).filter(({ name }) => !known.has(name) && !isOperationalType(name));
  if (unknown.length === 0) return;
  // The options shown are the caller's catalog (the operator's own: a covered tenant's names are valid too, but not listed).
  const allowed = ["*", ...catalog.slice(0, 100)];
  const where = operatorEndpoint ? "in the catalog of the operator or of a tenant this endpoint covers" : "in the event catalog";
  throw new ValidationError(
    unknown.map(({ name, i }): FieldError => ({ path: `eventTypes.${i}`, message: `${name} is not ${where}`, allowed })),
  );
}

/** An operator endpoint's `tenantIds` must all be tenants (422 naming each unknown one). */
export async function assertKnownTenants(db: Db, tenantIds: string[]): Promise<void> {
  const unknown = await unknownTenantIds(db, tenantIds);
  if (unknown.size === 0) return;
  const errors: FieldError[] = [];
  tenantIds.forEach((id, i) => {
    if (unknown.has(id)) errors.push({ path: `tenantIds.${i}`, message: `${id} is not a tenant` });
  });
  throw new ValidationError(errors);
}

/** `type` is one a subscription could receive: in its tenant's catalog (archived too), or for an operator endpoint live in a catalog it covers. */
export async function isReceivableType(db: Db, webhook: Pick<WebhookRow, "tenantId" | "tenantIds">, type: string): Promise<boolean> {
  if (!isOperator(webhook.tenantId)) return (await getVisibleEventType(db, webhook.tenantId, type)) !== undefined;
  const owners = webhook.tenantIds ? [OPERATOR_ID, ...webhook.tenantIds] : null;
  return (await liveNamesAmong(db, [type], owners)).has(type);
}
