import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantOp } from "../auth/caller";
import type { SendResult } from "../delivery/http/send";
import { requireCredential } from "../http/authenticate";
import { type AppEnv, tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, idParam, jsonBody, jsonResponse, type RouteText, tenantSecurity } from "../http/openapi";
import { recoverFailedDeliveries, sendTestEvent, webhookStats } from "../webhooks/actions";
import { STATS_WINDOWS } from "../webhooks/stats-series";
import { rotateWebhookSecret } from "../webhooks/webhooks";

export const TestSendBody = z.strictObject({ type: z.string().max(100).optional() }).openapi("TestSend");

export const TestSendResult = z
  .object({
    success: z.boolean(),
    statusCode: z.number().int().nullable(),
    responseBody: z.string().nullable(),
    durationMs: z.number().int(),
    error: z.string().optional(),
  })
  .openapi("TestSendResult");

export const serializeTestSend = (result: SendResult) => ({
  success: result.success,
  statusCode: result.statusCode,
  responseBody: result.responseBody,
  durationMs: result.durationMs,
  ...(result.error && { error: result.error }),
});

export const WebhookStatsSchema = z
  .object({
    state: z.enum(["closed", "open", "half_open"]).openapi({
      description:
        "The circuit breaker: closed (sending), open (tripped: deliveries held, probed at nextProbeAt), half_open (a probe is out)",
    }),
    nextProbeAt: z.string().nullable().openapi({ description: "When the open breaker sends its next probe; null unless open and probing" }),
    disabledReason: z.string().nullable(),
    consecutiveFailures: z.number().int(),
    attempts24h: z.number().int(),
    successRate24h: z.number().nullable(),
    p50Ms: z.number().nullable(),
    p95Ms: z.number().nullable(),
    series: z
      .array(z.object({ start: z.string(), succeeded: z.number().int(), failed: z.number().int() }))
      .openapi({ description: "Attempts per hour (window=24h) or UTC day (window=7d), oldest first, every bucket present" }),
  })
  .openapi("WebhookStats");

export const StatsQuery = z.object({
  window: z.enum(STATS_WINDOWS).default("24h").openapi({ description: "The series' span: 24 hourly or 7 daily buckets" }),
});

export const RotateSecretBody = z.strictObject({ graceSeconds: z.number().int().min(0).max(604_800).optional() }).openapi("RotateSecret");
export const RotateSecretResult = z.object({ secret: z.string(), previousSecretExpiresAt: z.string().nullable() });

export const RecoverBody = z
  .strictObject({ since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }) })
  .openapi("Recover");
export const RecoverResult = z.object({ recovered: z.number().int() });

export type WebhookActionTexts = Record<"test" | "stats" | "rotateSecret" | "recover", RouteText>;

/** Tenant and operator alike. */
export const ROTATE_SECRET_DESCRIPTION =
  "With `graceSeconds` > 0 the old secret keeps signing too (both signatures on every delivery) until it ends.";

const TENANT_TEXT: WebhookActionTexts = {
  test: { summary: "Send a signed sample event now and report the endpoint's answer" },
  stats: { summary: "Health of a subscription over the last 24 h, and a series of delivered vs failed attempts" },
  rotateSecret: { summary: "Replace the signing secret", description: ROTATE_SECRET_DESCRIPTION },
  recover: { summary: "Re-send every failed delivery since a time (one more attempt each)" },
};

/** Test sends, stats, secret rotation and recovery, for a tenant's subscriptions or (the admin twin) the operator's endpoints. */
export function webhookActionRoutes(security: Record<string, string[]>[], tags: string[], text: WebhookActionTexts) {
  const WebhookId = idParam("wh");
  return {
    test: createRoute({
      method: "post",
      path: "/{id}/test",
      tags,
      ...text.test,
      security,
      request: { params: WebhookId, ...jsonBody(TestSendBody, false) },
      responses: { 200: jsonResponse(TestSendResult, "What the endpoint answered"), ...errorResponses },
    }),
    stats: createRoute({
      method: "get",
      path: "/{id}/stats",
      tags,
      ...text.stats,
      security,
      request: { params: WebhookId, query: StatsQuery },
      responses: { 200: jsonResponse(WebhookStatsSchema, "Stats"), ...errorResponses },
    }),
    rotateSecret: createRoute({
      method: "post",
      path: "/{id}/rotate-secret",
      tags,
      ...text.rotateSecret,
      security,
      request: { params: WebhookId, ...jsonBody(RotateSecretBody, false) },
      responses: { 200: jsonResponse(RotateSecretResult, "The new secret, shown once"), ...errorResponses },
    }),
    recover: createRoute({
      method: "post",
      path: "/{id}/recover",
      tags,
      ...text.recover,
      security,
      request: { params: WebhookId, ...jsonBody(RecoverBody) },
      responses: { 202: jsonResponse(RecoverResult, "Queued"), ...errorResponses },
    }),
  };
}

/** Mounts the action routes on `app`, each operation run as `op(c)`. */
export function mountWebhookActions(
  app: ReturnType<typeof createRouter>,
  routes: ReturnType<typeof webhookActionRoutes>,
  op: (c: Context<AppEnv>) => TenantOp,
) {
  app.openapi(routes.test, async (c) => {
    return c.json(serializeTestSend(await sendTestEvent(op(c), c.req.valid("param").id, c.req.valid("json").type)), 200);
  });
  app.openapi(routes.stats, async (c) => c.json(await webhookStats(op(c), c.req.valid("param").id, c.req.valid("query").window), 200));
  app.openapi(routes.rotateSecret, async (c) => {
    const grace = c.req.valid("json").graceSeconds ?? 0;
    const { secret, previousSecretExpiresAt } = await rotateWebhookSecret(op(c), c.req.valid("param").id, grace);
    return c.json({ secret, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null }, 200);
  });
  app.openapi(routes.recover, async (c) => {
    const recovered = await recoverFailedDeliveries(op(c), c.req.valid("param").id, new Date(c.req.valid("json").since));
    return c.json({ recovered }, 202);
  });
}

/** Test sends, stats, secret rotation and recovery: `/v1/webhooks/{id}/...`. */
export function webhookActionsRoutes() {
  const app = createRouter();
  app.use("/:id/*", requireCredential("webhooks"), readBody());
  mountWebhookActions(app, webhookActionRoutes(tenantSecurity, ["Webhooks"], TENANT_TEXT), tenantOp);
  return app;
}
