import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { auditActor } from "../auth/authenticate";
import { recordAudit } from "../db/audit";
import { createDb } from "../db/client";
import { failedDeliveriesSince, recentAttempts, reopenDeliveries } from "../db/deliveries";
import { getEventType } from "../db/event-types";
import { getWebhook, updateWebhook } from "../db/webhooks";
import { sendAndLog } from "../delivery/attempt";
import { breakerFor } from "../delivery/breaker";
import { enqueueDeliveries } from "../delivery/queue";
import { generateWebhookSecret } from "../delivery/sign";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { errorResponses, idParam, jsonBody, jsonResponse, tenantSecurity } from "../http/openapi";
import { newId } from "../lib/crypto";
import { sealWebhookSecret } from "../webhooks/secrets";

const tags = ["Webhooks"];
const WebhookId = idParam("wh");
const RECOVER_MAX = 1000;

const testRoute = createRoute({
  method: "post",
  path: "/{id}/test",
  tags,
  summary: "Send a signed sample event now and report the endpoint's answer",
  security: tenantSecurity,
  request: {
    params: WebhookId,
    ...jsonBody(z.strictObject({ type: z.string().max(100).optional() }).openapi("TestSend"), false),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          success: z.boolean(),
          statusCode: z.number().int().nullable(),
          responseBody: z.string().nullable(),
          durationMs: z.number().int(),
          error: z.string().optional(),
        })
        .openapi("TestSendResult"),
      "What the endpoint answered",
    ),
    ...errorResponses,
  },
});

const statsRoute = createRoute({
  method: "get",
  path: "/{id}/stats",
  tags,
  summary: "Health of a subscription over the last 24 h",
  security: tenantSecurity,
  request: { params: WebhookId },
  responses: {
    200: jsonResponse(
      z
        .object({
          state: z.enum(["enabled", "disabled"]),
          disabledReason: z.string().nullable(),
          consecutiveFailures: z.number().int(),
          attempts24h: z.number().int(),
          successRate24h: z.number().nullable(),
          p50Ms: z.number().nullable(),
          p95Ms: z.number().nullable(),
        })
        .openapi("WebhookStats"),
      "Stats",
    ),
    ...errorResponses,
  },
});

const rotateRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tags,
  summary: "Replace the signing secret",
  description: "With `graceSeconds` > 0 the old secret keeps signing too (both signatures on every delivery) until it ends.",
  security: tenantSecurity,
  request: {
    params: WebhookId,
    ...jsonBody(z.strictObject({ graceSeconds: z.number().int().min(0).max(604_800).optional() }).openapi("RotateSecret"), false),
  },
  responses: { 200: jsonResponse(z.object({ secret: z.string(), previousSecretExpiresAt: z.string().nullable() }), "The new secret, shown once"), ...errorResponses },
});

const recoverRoute = createRoute({
  method: "post",
  path: "/{id}/recover",
  tags,
  summary: "Re-send every failed delivery since a time (one more attempt each)",
  security: tenantSecurity,
  request: {
    params: WebhookId,
    ...jsonBody(z.strictObject({ since: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date-time" }) }).openapi("Recover")),
  },
  responses: { 202: jsonResponse(z.object({ recovered: z.number().int() }), "Queued"), ...errorResponses },
});

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Test sends, stats, secret rotation and recovery, on the webhooks router. */
export function registerWebhookActions(app: OpenAPIHono<AppEnv>): void {
  app.openapi(testRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const webhook = await getWebhook(db, principal.tenant.id, c.req.valid("param").id);
    if (!webhook) throw ApiError.notFound("Webhook");
    const { type } = c.req.valid("json");
    if (type && !(await getEventType(db, principal.tenant.id, type))) {
      throw ApiError.validation([{ path: "type", message: `${type} is not in the event catalog` }]);
    }
    const eventType = type ?? webhook.eventTypes.find((t) => t !== "*") ?? "webhook.test";
    const result = await sendAndLog(
      db,
      c.get("config"),
      webhook,
      { id: newId("evt"), type: eventType, createdAt: new Date(), data: { test: true, message: "A test event from Hookgate" } },
      1,
      { deliveryId: null, isTest: true },
    );
    return c.json(
      {
        success: result.success,
        statusCode: result.statusCode,
        responseBody: result.responseBody,
        durationMs: result.durationMs,
        ...(result.error && { error: result.error }),
      },
      200,
    );
  });

  app.openapi(statsRoute, async (c) => {
    const db = createDb(c.env.DB);
    const webhook = await getWebhook(db, c.get("principal").tenant.id, c.req.valid("param").id);
    if (!webhook) throw ApiError.notFound("Webhook");
    const [attempts, breaker] = await Promise.all([
      recentAttempts(db, webhook.id, new Date(Date.now() - 86_400_000)),
      breakerFor(c.env, webhook.id).state(),
    ]);
    const ok = attempts.filter((a) => a.error === null).length;
    const durations = attempts.map((a) => a.durationMs).sort((a, b) => a - b);
    return c.json(
      {
        state: webhook.isEnabled ? ("enabled" as const) : ("disabled" as const),
        disabledReason: webhook.disabledReason,
        consecutiveFailures: breaker.consecutiveFailures,
        attempts24h: attempts.length,
        successRate24h: attempts.length ? ok / attempts.length : null,
        p50Ms: percentile(durations, 50),
        p95Ms: percentile(durations, 95),
      },
      200,
    );
  });

  app.openapi(rotateRoute, async (c) => {
    const principal = c.get("principal");
    const config = c.get("config");
    const db = createDb(c.env.DB);
    const webhook = await getWebhook(db, principal.tenant.id, c.req.valid("param").id);
    if (!webhook) throw ApiError.notFound("Webhook");
    const grace = c.req.valid("json").graceSeconds ?? 0;
    const secret = generateWebhookSecret();
    const expires = grace > 0 ? new Date(Date.now() + grace * 1000) : null;
    await updateWebhook(db, principal.tenant.id, webhook.id, {
      ...(await sealWebhookSecret(config, webhook.id, secret)),
      previousSecretEnc: expires ? webhook.secretEnc : null,
      previousSecretExpiresAt: expires,
    });
    await recordAudit(db, auditActor(principal, c.get("requestId")), "webhook.secret_rotated", webhook.id, { graceSeconds: grace });
    return c.json({ secret, previousSecretExpiresAt: expires ? expires.toISOString() : null }, 200);
  });

  app.openapi(recoverRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const webhook = await getWebhook(db, principal.tenant.id, c.req.valid("param").id);
    if (!webhook) throw ApiError.notFound("Webhook");
    if (!webhook.isEnabled) throw new ApiError("conflict", "The subscription is disabled; enable it first");
    const rows = await failedDeliveriesSince(db, principal.tenant.id, webhook.id, new Date(c.req.valid("json").since), RECOVER_MAX);
    await reopenDeliveries(db, rows.map((r) => r.id));
    await enqueueDeliveries(c.env, rows, { manual: true });
    await recordAudit(db, auditActor(principal, c.get("requestId")), "webhook.recovered", webhook.id, { deliveries: rows.length });
    return c.json({ recovered: rows.length }, 202);
  });
}
