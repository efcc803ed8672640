import { createRoute, z } from "@hono/zod-openapi";
import { auditActor, requireCredential } from "../auth/authenticate";
import { recordAudit } from "../db/audit";
import { createDb } from "../db/client";
import {
  countWebhooks,
  deleteWebhook,
  getWebhook,
  insertWebhookUnderQuota,
  listWebhooks,
  updateWebhook,
  type WebhookPatch,
  type WebhookRow,
} from "../db/webhooks";
import { buildDeliveryRequest } from "../delivery/request";
import { sendWebhook } from "../delivery/send";
import { breakerFor } from "../delivery/breaker";
import { generateWebhookSecret } from "../delivery/sign";
import { registerWebhookActions } from "./webhook-actions";
import { ApiError } from "../errors";
import { readBody } from "../http/middleware";
import {
  conflictResponse,
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  listOf,
  tenantSecurity,
} from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { newId } from "../lib/crypto";
import { CreateWebhookBody, NewWebhookSchema, PatchWebhookBody, WebhookSchema } from "../webhooks/schemas";
import { sealWebhookSecret, signingSecrets } from "../webhooks/secrets";
import { assertDeliverableUrl, assertKnownEventTypes } from "../webhooks/validate";

const MANAGER_NAMES = { zapier: "Zapier", n8n: "n8n", make: "Make" } as const;

export function serializeWebhook(w: WebhookRow) {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    eventTypes: w.eventTypes,
    isEnabled: w.isEnabled,
    disabledReason: w.disabledReason,
    format: w.format,
    headers: w.headers ?? {},
    customFields: w.customFields ?? {},
    secretLast4: w.secretLast4,
    managedBy: w.managedBy,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

const tags = ["Webhooks"];
const WebhookId = idParam("wh");

const createWebhookRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Subscribe an endpoint to events",
  description: "The signing secret is returned once. With `verify: true` a signed `webhook.verification` is sent first.",
  security: tenantSecurity,
  request: jsonBody(CreateWebhookBody),
  responses: { 201: jsonResponse(NewWebhookSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List webhook subscriptions",
  security: tenantSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(WebhookSchema), "A page of subscriptions"), ...errorResponses },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a webhook subscription (never its secret)",
  security: tenantSecurity,
  request: { params: WebhookId },
  responses: { 200: jsonResponse(WebhookSchema, "The subscription"), ...errorResponses },
});

const patchRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a subscription (anything but its secret)",
  description: "Tool-managed subscriptions (`managedBy`) accept only `isEnabled`. `isEnabled: true` also resets the circuit breaker.",
  security: tenantSecurity,
  request: { params: WebhookId, ...jsonBody(PatchWebhookBody) },
  responses: { 200: jsonResponse(WebhookSchema, "The updated subscription"), ...errorResponses },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete a subscription; its pending deliveries are cancelled",
  security: tenantSecurity,
  request: { params: WebhookId },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

export function webhooksRoutes() {
  const app = createRouter();
  app.use("*", readBody(), requireCredential("webhooks"));

  app.openapi(createWebhookRoute, async (c) => {
    const principal = c.get("principal");
    const config = c.get("config");
    const db = createDb(c.env.DB);
    const body = c.req.valid("json");
    const url = assertDeliverableUrl(body.url, config.allowInsecureUrls);
    await assertKnownEventTypes(db, principal.tenant.id, body.eventTypes);
    const id = newId("wh");
    const secret = body.secret ?? generateWebhookSecret();
    const now = new Date();
    const row: WebhookRow = {
      id,
      tenantId: principal.tenant.id,
      url,
      description: body.description ?? null,
      eventTypes: body.eventTypes,
      isEnabled: body.isEnabled ?? true,
      disabledReason: body.isEnabled === false ? "manual" : null,
      format: body.format ?? "json",
      headers: body.headers ?? null,
      customFields: body.customFields ?? null,
      ...(await sealWebhookSecret(config, id, secret)),
      previousSecretEnc: null,
      previousSecretExpiresAt: null,
      managedBy: body.managedBy ?? null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    const quotaFull = () =>
      ApiError.quota("webhooks", principal.tenant.quotas.webhooks, "webhooks");
    if (body.verify) {
      // Checked first too, so a full account does not send the endpoint a request for nothing.
      if ((await countWebhooks(db, principal.tenant.id)) >= principal.tenant.quotas.webhooks) throw quotaFull();
      await verifyEndpoint(row, [secret], config.deliveryTimeoutMs);
    }
    if (!(await insertWebhookUnderQuota(c.env.DB, row, principal.tenant.quotas.webhooks))) throw quotaFull();
    await recordAudit(db, auditActor(principal, c.get("requestId")), "webhook.created", id, { url, eventTypes: row.eventTypes });
    return c.json({ ...serializeWebhook(row), secret }, 201);
  });

  app.openapi(listRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listWebhooks(createDb(c.env.DB), c.get("principal").tenant.id, limit, decodeCursor(cursor));
    return c.json(page(rows, limit, (w) => ({ t: w.createdAt.getTime(), id: w.id }), serializeWebhook), 200);
  });

  app.openapi(getRoute, async (c) => {
    const row = await getWebhook(createDb(c.env.DB), c.get("principal").tenant.id, c.req.valid("param").id);
    if (!row) throw ApiError.notFound("Webhook");
    return c.json(serializeWebhook(row), 200);
  });

  app.openapi(patchRoute, async (c) => {
    const principal = c.get("principal");
    const config = c.get("config");
    const db = createDb(c.env.DB);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await getWebhook(db, principal.tenant.id, id);
    if (!row) throw ApiError.notFound("Webhook");
    const fields = Object.keys(body).filter((k) => body[k as keyof typeof body] !== undefined);
    if (row.managedBy && fields.some((f) => f !== "isEnabled")) {
      throw new ApiError(
        "managed_subscription",
        `This subscription is managed by ${MANAGER_NAMES[row.managedBy]}; change it there (only isEnabled can be changed here)`,
      );
    }
    const set: WebhookPatch = {};
    if (body.url !== undefined) set.url = assertDeliverableUrl(body.url, config.allowInsecureUrls);
    if (body.eventTypes !== undefined) {
      await assertKnownEventTypes(db, principal.tenant.id, body.eventTypes);
      set.eventTypes = body.eventTypes;
    }
    if (body.description !== undefined) set.description = body.description;
    if (body.format !== undefined) set.format = body.format;
    if (body.headers !== undefined) set.headers = body.headers;
    if (body.customFields !== undefined) set.customFields = body.customFields;
    if (body.managedBy !== undefined) set.managedBy = body.managedBy;
    if (body.isEnabled !== undefined) {
      set.isEnabled = body.isEnabled;
      set.disabledReason = body.isEnabled ? null : "manual";
    }
    // Verified as it will be stored (new URL, format, headers), signed with the live secrets.
    if (body.verify) await verifyEndpoint({ ...row, ...set }, await signingSecrets(config, row), config.deliveryTimeoutMs);
    // The response shows exactly what is stored: the same updatedAt, or the old one when nothing changed.
    let updatedAt = row.updatedAt;
    if (Object.keys(set).length > 0) {
      updatedAt = new Date();
      await updateWebhook(db, principal.tenant.id, id, set, updatedAt);
      // Re-enabling starts afresh: the breaker's count goes back to zero.
      if (body.isEnabled === true) await breakerFor(c.env, id).reset();
      await recordAudit(db, auditActor(principal, c.get("requestId")), "webhook.updated", id, { fields: Object.keys(set) });
    }
    return c.json(serializeWebhook({ ...row, ...set, updatedAt }), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const { id } = c.req.valid("param");
    const row = await getWebhook(db, principal.tenant.id, id);
    if (!row) throw ApiError.notFound("Webhook");
    await deleteWebhook(db, principal.tenant.id, id);
    await recordAudit(db, auditActor(principal, c.get("requestId")), "webhook.deleted", id, { url: row.url });
    return c.body(null, 204);
  });

  registerWebhookActions(app);
  return app;
}

/** `verify: true`: one signed `webhook.verification` POST; anything but a 2xx refuses the subscription. */
async function verifyEndpoint(row: WebhookRow, secrets: string[], timeoutMs: number): Promise<void> {
  const request = await buildDeliveryRequest({
    endpoint: row,
    event: {
      id: newId("evt"),
      type: "webhook.verification",
      createdAt: new Date(),
      data: { webhookId: row.id, message: "Hookgate is verifying this endpoint; answer with any 2xx." },
    },
    attempt: 1,
    secrets,
  });
  const result = await sendWebhook(row.url, request, timeoutMs);
  if (!result.success) {
    const what = result.statusCode !== null ? `answered ${result.statusCode}` : `failed (${result.error})`;
    throw new ApiError("verification_failed", `The endpoint ${what} to the verification request; it must answer 2xx`, {
      errors: [{ path: "url", message: `verification ${what}` }],
      endpointStatus: result.statusCode,
      endpointError: result.error,
    });
  }
}
