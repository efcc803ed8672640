import type { TenantOp } from "../auth/caller";
import { currentBrand, deliveryBrand } from "../branding/brand";
import { auditStatement } from "../db/audit";
import { createDb } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import type { ManagedBy, Mode, WebhookFormat, WebhookOrdering } from "../db/schema";
import { storeNewSubscription, storeSubscriptionChange, storeSubscriptionDeleted } from "../db/webhook-store";
import { countWebhooks, getWebhook, listWebhooks, storedMode, type WebhookPatch, type WebhookRow, webhookExists } from "../db/webhooks";
import { releaseHeld } from "../delivery/breaker/breaker";
import { breakerPlan } from "../delivery/breaker/breaker-schedule";
import { cancelPendingDeliveries } from "../delivery/engine/cancel";
import { type CustomHeaders, openWebhookHeaders, signingSecrets } from "../delivery/http/secrets";
import { generateWebhookSecret } from "../delivery/http/sign";
import { sendVerification } from "../delivery/http/verification";
import { clearTurns } from "../delivery/ordering/ordering";
import { newId } from "../lib/crypto";
import { ForbiddenError, NotFoundError, QuotaExceededError, ValidationError } from "../lib/errors";
import { endListenSessionOf } from "../listen/endpoint";
import { governorFor } from "../objects";
import { isOperator, ownedAction } from "../tenants/operator";
import { filterProblems } from "./filter";
import { checkedModes, modesOf } from "./modes";
import { sealWebhookHeaders, sealWebhookSecret } from "./secrets";
import { assertDeliverableUrl, assertKnownEventTypes, assertKnownTenants, assertOwnHeaders } from "./validate";
import { checkedVersionPin, initialVersionPin } from "./version";

export type WebhookInput = {
  url: string;
  description?: string | null;
  eventTypes: string[];
  isEnabled?: boolean;
  format?: WebhookFormat;
  headers?: Record<string, string> | null;
  customFields?: Record<string, string | number | boolean> | null;
  secret?: string;
  managedBy?: ManagedBy | null;
  verify?: boolean;
  /** Operator endpoints only: the tenants whose events they receive (null: all). */
  tenantIds?: string[] | null;
  modes?: Mode[] | null; // operator endpoints only: the modes whose events they receive (default live only)
  filter?: Record<string, unknown> | null;
  rateLimit?: number | null;
  maxConcurrency?: number | null;
  ordering?: WebhookOrdering;
  /** Payload version pin (YYYY-MM-DD); default: the newest version of its types now. */
  version?: string;
};

export type WebhookChange = Partial<Omit<WebhookInput, "secret" | "eventTypes">> & { eventTypes?: string[] };

const MANAGER_NAMES: Record<ManagedBy, string> = { zapier: "Zapier", n8n: "n8n", make: "Make", cli: "hookgate listen" };

/** A filter is checked when stored: 422 naming a bad operator, listing the valid ones. */
function checkedFilter(filter: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!filter || Object.keys(filter).length === 0) return null;
  const problems = filterProblems(filter);
  if (problems.length > 0) throw new ValidationError(problems);
  return filter;
}

/**
 * `tenantIds` narrows an operator endpoint to some tenants (null: all); a
 * tenant's own subscription receives its tenant's events only and takes none.
 */
async function checkedTenantIds(op: TenantOp, tenantIds: string[] | null | undefined): Promise<string[] | null> {
  if (tenantIds === undefined || tenantIds === null) return null;
  if (!isOperator(op.tenant.id)) {
    throw new ValidationError([{ path: "tenantIds", message: "only the operator's endpoints can be given tenants" }]);
  }
  await assertKnownTenants(createDb(op.env.DB), tenantIds);
  return tenantIds;
}

/**
 * Subscribes an endpoint, within the `webhooks` quota (counted within the caller's mode). With `verify`, a
 * signed `webhook.verification` must get a 2xx first. Returns the row and the
 * signing secret, shown once. The same operation subscribes the operator's
 * own endpoints (`op.tenant` the operator), which may list `tenantIds`.
 */
export async function createWebhook(op: TenantOp, input: WebhookInput): Promise<{ row: WebhookRow; secret: string }> {
  const db = createDb(op.env.DB);
  const url = assertDeliverableUrl(input.url, op.config.allowInsecureUrls);
  if (input.headers) assertOwnHeaders(input.headers, (await currentBrand(op.env.DB)).headerPrefix);
  const tenantIds = await checkedTenantIds(op, input.tenantIds);
  await assertKnownEventTypes(db, op.tenant.id, input.eventTypes, tenantIds);
  const id = newId("wh");
  const secret = input.secret ?? generateWebhookSecret();
  const now = new Date();
  const row: WebhookRow = {
    id,
    tenantId: op.tenant.id,
    // The operator's own endpoints are stored as live; `modes` says whose events they get.
    mode: storedMode(op.tenant.id, op.mode),
    url,
    description: input.description ?? null,
    eventTypes: input.eventTypes,
    isEnabled: input.isEnabled ?? true,
    disabledReason: input.isEnabled === false ? "manual" : null,
    format: input.format ?? "json",
    ...(await sealWebhookHeaders(op.config, id, input.headers)),
    customFields: input.customFields ?? null,
    ...(await sealWebhookSecret(op.config, id, secret)),
    previousSecretEnc: null,
    previousSecretExpiresAt: null,
    managedBy: input.managedBy ?? null,
    tenantIds,
    modes: checkedModes(op, input.modes),
    filter: checkedFilter(input.filter),
    rateLimit: input.rateLimit ?? null,
    maxConcurrency: input.maxConcurrency ?? null,
    ordering: input.ordering ?? "none",
    version: await initialVersionPin(db, op.tenant.id, input.eventTypes, input.version),
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const quota = op.tenant.quotas.webhooks;
  if (input.verify) {
    // Checked first too, so a full account does not send the endpoint a request for nothing.
    if ((await countWebhooks(db, op.tenant.id, row.mode)) >= quota) throw new QuotaExceededError("webhooks", quota, "webhooks");
    await verifyEndpoint(op.env, row, input.headers ?? null, [secret], op.config.deliveryTimeoutMs);
  }
  const audit = auditStatement(
    db,
    op.who,
    { action: ownedAction(op.tenant.id, "webhook.created"), target: id, details: { url, eventTypes: row.eventTypes } },
    webhookExists(id),
  );
  if (!(await storeNewSubscription(db, row, quota, audit))) throw new QuotaExceededError("webhooks", quota, "webhooks");
  return { row, secret };
}

/** The owner's subscriptions of the caller's mode not deleted, oldest first (the operator's: its own endpoints). */
export async function listSubscriptions(
  op: Pick<TenantOp, "env" | "tenant" | "mode">,
  limit: number,
  after?: Cursor,
): Promise<Page<WebhookRow>> {
  return listWebhooks(createDb(op.env.DB), op.tenant.id, storedMode(op.tenant.id, op.mode), limit, after);
}

/** A subscription of the tenant in the caller's mode, or 404 (another tenant's or another mode's id too). */
export async function findWebhook(op: Pick<TenantOp, "env" | "tenant" | "mode">, id: string): Promise<WebhookRow> {
  const row = await getWebhook(createDb(op.env.DB), op.tenant.id, storedMode(op.tenant.id, op.mode), id);
  if (!row) throw new NotFoundError("Webhook");
  return row;
}

/**
 * Any field but the secret. A tool-managed subscription takes only
 * `isEnabled` (403 naming the tool). `isEnabled: true` also resets the breaker.
 */
export async function changeWebhook(op: TenantOp, id: string, change: WebhookChange): Promise<WebhookRow> {
  const db = createDb(op.env.DB);
  const row = await findWebhook(op, id);
  const { verify, ...fields } = change;
  const given = Object.keys(fields).filter((k) => fields[k as keyof typeof fields] !== undefined);
  if (row.managedBy && (given.some((f) => f !== "isEnabled") || verify !== undefined)) {
    throw new ForbiddenError(
      "managed_subscription",
      `This subscription is managed by ${MANAGER_NAMES[row.managedBy]}; change it there (only isEnabled can be changed here)`,
    );
  }
  const set: WebhookPatch = {};
  if (fields.url !== undefined) set.url = assertDeliverableUrl(fields.url, op.config.allowInsecureUrls);
  if (fields.tenantIds !== undefined) set.tenantIds = await checkedTenantIds(op, fields.tenantIds);
  if (fields.modes !== undefined) set.modes = checkedModes(op, fields.modes);
  // Checked as they will be stored together: narrowing the tenants may leave a type no covered tenant has.
  if (fields.eventTypes !== undefined || fields.tenantIds !== undefined) {
    await assertKnownEventTypes(
      db,
      op.tenant.id,
      fields.eventTypes ?? row.eventTypes,
      set.tenantIds !== undefined ? set.tenantIds : row.tenantIds,
    );
    if (fields.eventTypes !== undefined) set.eventTypes = fields.eventTypes;
  }
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.format !== undefined) set.format = fields.format;
  // A new map replaces the old one whole; null removes them.
  if (fields.headers) assertOwnHeaders(fields.headers, (await currentBrand(op.env.DB)).headerPrefix);
  if (fields.headers !== undefined) Object.assign(set, await sealWebhookHeaders(op.config, id, fields.headers));
  if (fields.customFields !== undefined) set.customFields = fields.customFields;
  if (fields.filter !== undefined) set.filter = checkedFilter(fields.filter);
  if (fields.rateLimit !== undefined) set.rateLimit = fields.rateLimit;
  if (fields.maxConcurrency !== undefined) set.maxConcurrency = fields.maxConcurrency;
  if (fields.ordering !== undefined && fields.ordering !== row.ordering) set.ordering = fields.ordering;
  if (fields.managedBy !== undefined) set.managedBy = fields.managedBy;
  if (fields.version !== undefined && fields.version !== row.version) set.version = checkedVersionPin(fields.version);
  if (fields.isEnabled !== undefined) {
    set.isEnabled = fields.isEnabled;
    set.disabledReason = fields.isEnabled ? null : "manual";
  }
  // Verified as it will be stored (new URL, format, headers), signed with the live secrets.
  if (verify) {
    const headers = fields.headers !== undefined ? fields.headers : await openWebhookHeaders(op.config, row);
    await verifyEndpoint(op.env, { ...row, ...set }, headers, await signingSecrets(op.config, row), op.config.deliveryTimeoutMs);
  }
  // The answer shows exactly what is stored: the old updatedAt when nothing changed.
  if (Object.keys(set).length === 0) return row;
  set.updatedAt = new Date();
  await storeSubscriptionChange(
    db,
    op.tenant.id,
    id,
    set,
    auditStatement(db, op.who, {
      action: ownedAction(op.tenant.id, "webhook.updated"),
      target: id,
      details: { fields: auditedFields(set) },
    }),
  );
  // Re-enabling starts afresh: the breaker's count goes back to zero, and what was held goes out in order.
  if (fields.isEnabled === true) await releaseHeld(op.env, await governorFor(op.env, id).reset());
  // Switched off: its deliveries are held as they come up, never probed.
  if (fields.isEnabled === false) {
    await governorFor(op.env, id).holdFor({ webhookId: id, ownerId: op.tenant.id }, "manual", null, breakerPlan(op.config));
  }
  // No longer ordered: its lines go (a delivery still waiting comes up at its recheck time, unordered).
  if (set.ordering === "none") await clearTurns(op.env, id);
  return { ...row, ...set };
}

/** Deletes the subscription, then cancels its pending deliveries. */
export async function deleteWebhook(op: TenantOp, id: string): Promise<void> {
  const db = createDb(op.env.DB);
  const row = await findWebhook(op, id);
  const audit = auditStatement(db, op.who, { action: ownedAction(op.tenant.id, "webhook.deleted"), target: id, details: { url: row.url } });
  await storeSubscriptionDeleted(db, op.tenant.id, id, audit);
  await governorFor(op.env, id).forget();
  await cancelPendingDeliveries(op.env, op.config, op.tenant, id, modesOf(row));
  await endListenSessionOf(op.env, row.url);
}

/**
 * A new signing secret, shown once. With `graceSeconds` > 0 the old one
 * keeps signing too (both signatures on every delivery) until it ends.
 */
export async function rotateWebhookSecret(
  op: TenantOp,
  id: string,
  graceSeconds: number,
): Promise<{ secret: string; previousSecretExpiresAt: Date | null }> {
  const db = createDb(op.env.DB);
  const webhook = await findWebhook(op, id);
  const secret = generateWebhookSecret();
  const expires = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
  const set: WebhookPatch = {
    ...(await sealWebhookSecret(op.config, id, secret)),
    previousSecretEnc: expires ? webhook.secretEnc : null,
    previousSecretExpiresAt: expires,
    updatedAt: new Date(),
  };
  const audit = auditStatement(db, op.who, {
    action: ownedAction(op.tenant.id, "webhook.secret_rotated"),
    target: id,
    details: { graceSeconds },
  });
  // Like every change, through the store: this isolate's next delivery is signed with the new secret.
  await storeSubscriptionChange(db, op.tenant.id, id, set, audit);
  return { secret, previousSecretExpiresAt: expires };
}

/** The fields a change touched, as the API names them (the sealed headers are `headers`). */
function auditedFields(set: WebhookPatch): string[] {
  const names = Object.keys(set).filter((k) => k !== "updatedAt" && k !== "headerHints");
  return names.map((k) => (k === "headersEnc" ? "headers" : k));
}

/** `verify: true`: one signed `webhook.verification` POST; anything but a 2xx refuses (422 with the endpoint's answer). */
async function verifyEndpoint(
  env: Env,
  row: WebhookRow,
  headers: CustomHeaders | null,
  secrets: string[],
  timeoutMs: number,
): Promise<void> {
  const brand = await currentBrand(env.DB);
  const result = await sendVerification({
    url: row.url,
    endpoint: { ...row, headers },
    secrets,
    timeoutMs,
    webhookId: row.id,
    brand: deliveryBrand(brand),
    productName: brand.productName,
  });
  if (!result.success) {
    const what = result.statusCode !== null ? `answered ${result.statusCode}` : `failed (${result.error})`;
    throw new ValidationError([{ path: "url", message: `verification ${what}` }], "verification_failed", {
      endpointStatus: result.statusCode,
      endpointError: result.error,
    });
  }
}
