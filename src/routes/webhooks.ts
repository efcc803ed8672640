import { createRoute } from "@hono/zod-openapi";
import type { WebhookRow } from "../db/webhooks";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { conflictResponse, createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf, tenantSecurity } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { CreateWebhookBody, NewWebhookSchema, PatchWebhookBody, WebhookSchema } from "../http/webhook-schemas";
import { maskedHeaders } from "../webhooks/secrets";
import { changeWebhook, createWebhook, deleteWebhook, findWebhook, listSubscriptions } from "../webhooks/webhooks";

export function serializeWebhook(w: WebhookRow) {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    eventTypes: w.eventTypes,
    isEnabled: w.isEnabled,
    disabledReason: w.disabledReason,
    format: w.format,
    headers: maskedHeaders(w.headerHints),
    customFields: w.customFields ?? {},
    filter: w.filter ?? null,
    rateLimit: w.rateLimit ?? null,
    maxConcurrency: w.maxConcurrency ?? null,
    ordering: w.ordering,
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

const listWebhooksRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List webhook subscriptions",
  security: tenantSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(WebhookSchema), "A page of subscriptions"), ...errorResponses },
});

const getWebhookRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a webhook subscription (never its secret)",
  security: tenantSecurity,
  request: { params: WebhookId },
  responses: { 200: jsonResponse(WebhookSchema, "The subscription"), ...errorResponses },
});

const patchWebhookRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a subscription (anything but its secret)",
  description:
    "Tool-managed subscriptions (`managedBy`) accept only `isEnabled`. " +
    "`isEnabled: true` also resets the circuit breaker and releases held deliveries in order; `isEnabled: false` holds them (never probed).",
  security: tenantSecurity,
  request: { params: WebhookId, ...jsonBody(PatchWebhookBody) },
  responses: { 200: jsonResponse(WebhookSchema, "The updated subscription"), ...errorResponses },
});

const deleteWebhookRoute = createRoute({
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
  // Not "*": the actions router shares the /v1/webhooks prefix, and its requests must pass the gate once.
  for (const path of ["/", "/:id"]) app.use(path, requireCredential("webhooks"), readBody());

  app.openapi(createWebhookRoute, async (c) => {
    const { row, secret } = await createWebhook(tenantOp(c), c.req.valid("json"));
    return c.json({ ...serializeWebhook(row), secret }, 201);
  });

  app.openapi(listWebhooksRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listSubscriptions(tenantOp(c), limit, decodeCursor(cursor)), serializeWebhook), 200);
  });

  app.openapi(getWebhookRoute, async (c) => {
    return c.json(serializeWebhook(await findWebhook(tenantOp(c), c.req.valid("param").id)), 200);
  });

  app.openapi(patchWebhookRoute, async (c) => {
    const { secret: _refused, ...change } = c.req.valid("json");
    return c.json(serializeWebhook(await changeWebhook(tenantOp(c), c.req.valid("param").id, change)), 200);
  });

  app.openapi(deleteWebhookRoute, async (c) => {
    await deleteWebhook(tenantOp(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  return app;
}
