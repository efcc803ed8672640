import { createRoute } from "@hono/zod-openapi";
import type { WebhookRow } from "../../db/webhooks";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, conflictResponse, createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page, pageQuery } from "../../http/pagination";
import {
  CreateOperatorWebhookBody,
  NewOperatorWebhookSchema,
  OperatorWebhookSchema,
  PatchOperatorWebhookBody,
} from "../../http/webhook-schemas";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { changeWebhook, createWebhook, deleteWebhook, findWebhook, listSubscriptions } from "../../webhooks/webhooks";
import { serializeWebhook } from "../webhooks";

export const serializeOperatorWebhook = (w: WebhookRow) => ({ ...serializeWebhook(w), tenantIds: w.tenantIds ?? null });

const tags = ["Operator"];
const WebhookId = idParam("wh");

const createOperatorWebhookRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Subscribe an operator endpoint to the events of every tenant, or of some",
  description:
    "The fields of a tenant's subscription, plus `tenantIds`. `eventTypes` may name the operator's types or any " +
    "covered tenant's. Its deliveries carry `tenantId` in the body and `X-Webhook-Tenant-Id`, are signed and retried " +
    "like any, and are listed at `/admin/deliveries`, never to tenants. The signing secret is returned once.",
  security: adminSecurity,
  request: jsonBody(CreateOperatorWebhookBody),
  responses: { 201: jsonResponse(NewOperatorWebhookSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listOperatorWebhooksRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the operator's endpoints",
  security: adminSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(OperatorWebhookSchema), "A page of endpoints"), ...errorResponses },
});

const getOperatorWebhookRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an operator endpoint (never its secret)",
  security: adminSecurity,
  request: { params: WebhookId },
  responses: { 200: jsonResponse(OperatorWebhookSchema, "The endpoint"), ...errorResponses },
});

const patchOperatorWebhookRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update an operator endpoint (anything but its secret)",
  description:
    "`tenantIds: null` covers every tenant again. " +
    "`isEnabled: true` also resets the circuit breaker and releases held deliveries in order; `isEnabled: false` holds them (never probed).",
  security: adminSecurity,
  request: { params: WebhookId, ...jsonBody(PatchOperatorWebhookBody) },
  responses: { 200: jsonResponse(OperatorWebhookSchema, "The updated endpoint"), ...errorResponses },
});

const deleteOperatorWebhookRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an operator endpoint; its pending deliveries are cancelled",
  security: adminSecurity,
  request: { params: WebhookId },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

/** The operator's own endpoints: `/admin/webhooks`, the subscription operations on the operator's resources. */
export function adminWebhooksRoutes() {
  const app = createRouter();
  // Not "*": the actions router shares the /admin/webhooks prefix, and its requests must pass the gate once.
  for (const path of ["/", "/:id"]) app.use(path, requireAdmin(), readBody());

  app.openapi(createOperatorWebhookRoute, async (c) => {
    const { row, secret } = await createWebhook(operatorOp(c, OPERATOR_TENANT), c.req.valid("json"));
    return c.json({ ...serializeOperatorWebhook(row), secret }, 201);
  });

  app.openapi(listOperatorWebhooksRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(
      page(await listSubscriptions(operatorOp(c, OPERATOR_TENANT), limit, decodeCursor(cursor)), serializeOperatorWebhook),
      200,
    );
  });

  app.openapi(getOperatorWebhookRoute, async (c) => {
    return c.json(serializeOperatorWebhook(await findWebhook(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id)), 200);
  });

  app.openapi(patchOperatorWebhookRoute, async (c) => {
    const { secret: _refused, ...change } = c.req.valid("json");
    return c.json(serializeOperatorWebhook(await changeWebhook(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id, change)), 200);
  });

  app.openapi(deleteOperatorWebhookRoute, async (c) => {
    await deleteWebhook(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id);
    return c.body(null, 204);
  });

  return app;
}
