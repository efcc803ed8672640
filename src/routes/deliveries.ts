import { createRoute, z } from "@hono/zod-openapi";
import { auditActor, requireCredential } from "../auth/authenticate";
import { recordAudit } from "../db/audit";
import { createDb } from "../db/client";
import { attemptsOf, getDelivery, listDeliveries, reopenDeliveries, type AttemptRow, type DeliveryRow } from "../db/deliveries";
import { getWebhook } from "../db/webhooks";
import { enqueueDeliveries } from "../delivery/queue";
import { ApiError } from "../errors";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, idParam, jsonResponse, listOf, tenantSecurity, toIso } from "../http/openapi";
import { IsoTimeQuery } from "../http/schemas";
import { decodeCursor, page, pageQuery } from "../http/pagination";

const Status = z.enum(["pending", "succeeded", "failed", "cancelled"]);

const DeliverySchema = z
  .object({
    id: z.string().openapi({ example: "dlv_8Hq..." }),
    eventId: z.string(),
    eventType: z.string(),
    webhookId: z.string(),
    status: Status,
    attemptCount: z.number().int().openapi({ description: "Attempts made so far" }),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .openapi("Delivery");

const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    statusCode: z.number().int().nullable(),
    durationMs: z.number().int(),
    responseBody: z.string().nullable().openapi({ description: "At most 4 KiB" }),
    error: z.enum(["timeout", "dns", "connection", "tls", "redirect", "http"]).nullable(),
    requestHeaders: z.record(z.string(), z.string()).openapi({ description: "Signatures and credentials redacted" }),
    requestBody: z.string(),
  })
  .openapi("DeliveryAttempt");

export const serializeDelivery = (d: DeliveryRow) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  webhookId: d.webhookId,
  status: d.status,
  attemptCount: d.attempts,
  nextAttemptAt: d.status === "pending" ? toIso(d.nextAttemptAt) : null,
  lastAttemptAt: toIso(d.lastAttemptAt),
  lastStatusCode: d.lastStatusCode,
  createdAt: d.createdAt.toISOString(),
});

export const serializeAttempt = (a: AttemptRow) => ({
  attempt: a.attempt,
  at: a.at.toISOString(),
  statusCode: a.statusCode,
  durationMs: a.durationMs,
  responseBody: a.responseBody,
  error: a.error,
  requestHeaders: a.requestHeaders,
  requestBody: a.requestBody,
});

const tags = ["Deliveries"];

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The delivery log, newest first",
  security: tenantSecurity,
  request: {
    query: pageQuery.extend({
      webhookId: z.string().max(64).optional(),
      eventId: z.string().max(64).optional(),
      eventType: z.string().max(100).optional(),
      status: Status.optional(),
      since: IsoTimeQuery.optional(),
      until: IsoTimeQuery.optional(),
    }),
  },
  responses: { 200: jsonResponse(listOf(DeliverySchema), "A page of deliveries"), ...errorResponses },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "A delivery with every attempt",
  security: tenantSecurity,
  request: { params: idParam("dlv") },
  responses: {
    200: jsonResponse(DeliverySchema.extend({ attempts: z.array(AttemptSchema) }).openapi("DeliveryWithAttempts"), "The delivery"),
    ...errorResponses,
  },
});

const retryRoute = createRoute({
  method: "post",
  path: "/{id}/retry",
  tags,
  summary: "Attempt a delivery once more, now",
  description: "For a failed, cancelled or succeeded delivery: one more attempt outside the schedule. 409 while one is pending.",
  security: tenantSecurity,
  request: { params: idParam("dlv") },
  responses: { 202: jsonResponse(DeliverySchema, "Queued"), ...errorResponses, 409: errorResponses[400] },
});

export function deliveriesRoutes() {
  const app = createRouter();
  app.use("*", readBody(), requireCredential("webhooks"));

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const rows = await listDeliveries(
      createDb(c.env.DB),
      c.get("principal").tenant.id,
      q.limit,
      {
        ...(q.webhookId && { webhookId: q.webhookId }),
        ...(q.eventId && { eventId: q.eventId }),
        ...(q.eventType && { eventType: q.eventType }),
        ...(q.status && { status: q.status }),
        ...(q.since && { since: q.since }),
        ...(q.until && { until: q.until }),
      },
      decodeCursor(q.cursor),
    );
    return c.json(page(rows, q.limit, (d) => ({ t: d.createdAt.getTime(), id: d.id }), serializeDelivery), 200);
  });

  app.openapi(getRoute, async (c) => {
    const db = createDb(c.env.DB);
    const row = await getDelivery(db, c.get("principal").tenant.id, c.req.valid("param").id);
    if (!row) throw ApiError.notFound("Delivery");
    return c.json({ ...serializeDelivery(row), attempts: (await attemptsOf(db, row.id)).map(serializeAttempt) }, 200);
  });

  app.openapi(retryRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const row = await getDelivery(db, principal.tenant.id, c.req.valid("param").id);
    if (!row) throw ApiError.notFound("Delivery");
    if (row.status === "pending") throw new ApiError("conflict", "This delivery is already pending; it will be attempted");
    const webhook = await getWebhook(db, principal.tenant.id, row.webhookId);
    if (!webhook) throw new ApiError("conflict", "The subscription of this delivery was deleted");
    if (!webhook.isEnabled) throw new ApiError("conflict", "The subscription is disabled; enable it first");
    await reopenDeliveries(db, [row.id]);
    await enqueueDeliveries(c.env, [row], { manual: true });
    await recordAudit(db, auditActor(principal, c.get("requestId")), "delivery.retried", row.id);
    return c.json(serializeDelivery({ ...row, status: "pending", nextAttemptAt: new Date() }), 202);
  });

  return app;
}
