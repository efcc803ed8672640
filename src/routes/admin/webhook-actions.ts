import { createRoute } from "@hono/zod-openapi";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, idParam, jsonBody, jsonResponse } from "../../http/openapi";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { recoverFailedDeliveries, sendTestEvent, webhookStats } from "../../webhooks/actions";
import { rotateWebhookSecret } from "../../webhooks/webhooks";
import {
  RecoverBody,
  RecoverResult,
  RotateSecretBody,
  RotateSecretResult,
  StatsQuery,
  serializeTestSend,
  TestSendBody,
  TestSendResult,
  WebhookStatsSchema,
} from "../webhook-actions";

const tags = ["Operator"];
const WebhookId = idParam("wh");

const testOperatorWebhookRoute = createRoute({
  method: "post",
  path: "/{id}/test",
  tags,
  summary: "Send a signed sample event to an operator endpoint now and report its answer",
  description: 'The sample carries `tenantId: "ten_test"`, which is no tenant\'s.',
  security: adminSecurity,
  request: { params: WebhookId, ...jsonBody(TestSendBody, false) },
  responses: { 200: jsonResponse(TestSendResult, "What the endpoint answered"), ...errorResponses },
});

const operatorWebhookStatsRoute = createRoute({
  method: "get",
  path: "/{id}/stats",
  tags,
  summary: "Health of an operator endpoint over the last 24 h",
  security: adminSecurity,
  request: { params: WebhookId, query: StatsQuery },
  responses: { 200: jsonResponse(WebhookStatsSchema, "Stats"), ...errorResponses },
});

const rotateOperatorSecretRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tags,
  summary: "Replace an operator endpoint's signing secret",
  description: "With `graceSeconds` > 0 the old secret keeps signing too (both signatures on every delivery) until it ends.",
  security: adminSecurity,
  request: { params: WebhookId, ...jsonBody(RotateSecretBody, false) },
  responses: { 200: jsonResponse(RotateSecretResult, "The new secret, shown once"), ...errorResponses },
});

const recoverOperatorWebhookRoute = createRoute({
  method: "post",
  path: "/{id}/recover",
  tags,
  summary: "Re-send every failed delivery to an operator endpoint since a time (one more attempt each)",
  security: adminSecurity,
  request: { params: WebhookId, ...jsonBody(RecoverBody) },
  responses: { 202: jsonResponse(RecoverResult, "Queued"), ...errorResponses },
});

/** Test sends, stats, secret rotation and recovery of the operator's endpoints: `/admin/webhooks/{id}/...`. */
export function adminWebhookActionsRoutes() {
  const app = createRouter();
  app.use("/:id/*", requireAdmin(), readBody());

  app.openapi(testOperatorWebhookRoute, async (c) => {
    const result = await sendTestEvent(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id, c.req.valid("json").type);
    return c.json(serializeTestSend(result), 200);
  });

  app.openapi(operatorWebhookStatsRoute, async (c) => {
    return c.json(await webhookStats(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id, c.req.valid("query").window), 200);
  });

  app.openapi(rotateOperatorSecretRoute, async (c) => {
    const grace = c.req.valid("json").graceSeconds ?? 0;
    const { secret, previousSecretExpiresAt } = await rotateWebhookSecret(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id, grace);
    return c.json({ secret, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null }, 200);
  });

  app.openapi(recoverOperatorWebhookRoute, async (c) => {
    const since = new Date(c.req.valid("json").since);
    return c.json({ recovered: await recoverFailedDeliveries(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id, since) }, 202);
  });

  return app;
}
