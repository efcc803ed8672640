import { createRoute, type z } from "@hono/zod-openapi";
import type { WebhookRow } from "../db/webhooks";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import {
  conflictResponse,
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  listOf,
  type RouteText,
  tenantSecurity,
} from "../http/openapi";
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
    version: w.version ?? null,
    secretLast4: w.secretLast4,
    managedBy: w.managedBy,
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

export type WebhookTexts = Record<"create" | "list" | "get" | "patch" | "delete", RouteText>;

/**
 * The five subscription routes, for a tenant's subscriptions or (the admin twin) the operator's
 * endpoints, whose bodies and answers carry `tenantIds` as well: `schemas` and `noun` say which.
 */
export function webhookRoutes<C extends z.ZodType, N extends z.ZodType, W extends z.ZodType, P extends z.ZodType>(
  security: Record<string, string[]>[],
  tags: string[],
  text: WebhookTexts,
  noun: string,
  schemas: { create: C; created: N; shown: W; patch: P },
) {
  const WebhookId = idParam("wh");
  return {
    create: createRoute({
      method: "post",
      path: "/",
      tags,
      ...text.create,
      security,
      request: jsonBody(schemas.create),
      responses: { 201: jsonResponse(schemas.created, "Created"), ...errorResponses, ...conflictResponse },
    }),
    list: createRoute({
      method: "get",
      path: "/",
      tags,
      ...text.list,
      security,
      request: { query: pageQuery },
      responses: { 200: jsonResponse(listOf(schemas.shown), `A page of ${noun}s`), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{id}",
      tags,
      ...text.get,
      security,
      request: { params: WebhookId },
      responses: { 200: jsonResponse(schemas.shown, `The ${noun}`), ...errorResponses },
    }),
    patch: createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      ...text.patch,
      security,
      request: { params: WebhookId, ...jsonBody(schemas.patch) },
      responses: { 200: jsonResponse(schemas.shown, `The updated ${noun}`), ...errorResponses },
    }),
    delete: createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      ...text.delete,
      security,
      request: { params: WebhookId },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
  };
}

/** Held deliveries on a switch: the same for tenant and operator. */
export const IS_ENABLED_EFFECT =
  "`isEnabled: true` also resets the circuit breaker and releases held deliveries in order; `isEnabled: false` holds them (never probed).";

const TENANT_TEXT: WebhookTexts = {
  create: {
    summary: "Subscribe an endpoint to events",
    description: "The signing secret is returned once. With `verify: true` a signed `webhook.verification` is sent first.",
  },
  list: { summary: "List webhook subscriptions" },
  get: { summary: "Get a webhook subscription (never its secret)" },
  patch: {
    summary: "Update a subscription (anything but its secret)",
    description: `Tool-managed subscriptions (\`managedBy\`) accept only \`isEnabled\`. ${IS_ENABLED_EFFECT}`,
  },
  delete: { summary: "Delete a subscription; its pending deliveries are cancelled" },
};

/** `/v1/webhooks`: the tenant's subscriptions (webhooks:read / webhooks:write). */
export function webhooksRoutes() {
  const app = createRouter();
  // Not "*": the actions router shares the /v1/webhooks prefix, and its requests must pass the gate once.
  for (const path of ["/", "/:id"]) app.use(path, requireCredential("webhooks"), readBody());
  const routes = webhookRoutes(tenantSecurity, ["Webhooks"], TENANT_TEXT, "subscription", {
    create: CreateWebhookBody,
    created: NewWebhookSchema,
    shown: WebhookSchema,
    patch: PatchWebhookBody,
  });

  app.openapi(routes.create, async (c) => {
    const { row, secret } = await createWebhook(tenantOp(c), c.req.valid("json"));
    return c.json({ ...serializeWebhook(row), secret }, 201);
  });
  app.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listSubscriptions(tenantOp(c), limit, decodeCursor(cursor)), serializeWebhook), 200);
  });
  app.openapi(routes.get, async (c) => c.json(serializeWebhook(await findWebhook(tenantOp(c), c.req.valid("param").id)), 200));
  app.openapi(routes.patch, async (c) => {
    const { secret: _refused, ...change } = c.req.valid("json");
    return c.json(serializeWebhook(await changeWebhook(tenantOp(c), c.req.valid("param").id, change)), 200);
  });
  app.openapi(routes.delete, async (c) => {
    await deleteWebhook(tenantOp(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
