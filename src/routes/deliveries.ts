import { createRoute, z } from "@hono/zod-openapi";
import type { AttemptRecord, DeliveryRecord } from "../data/records";
import { ATTEMPT_ERRORS, DELIVERY_STATUSES } from "../db/schema";
import { deliveryWithAttempts, listDeliveryLog } from "../delivery/engine/log";
import { retryDelivery } from "../delivery/engine/retry";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, idParam, jsonResponse, listOf, type RouteText, tenantSecurity, toIso } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { IsoTimeQuery } from "../http/schemas";

const Status = z.enum(DELIVERY_STATUSES);

export const DeliverySchema = z
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
    lastDurationMs: z.number().int().nullable().openapi({ description: "How long the last attempt took" }),
    createdAt: z.string(),
  })
  .openapi("Delivery");

export const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    statusCode: z.number().int().nullable(),
    durationMs: z.number().int(),
    responseBody: z.string().nullable().openapi({ description: "At most 4 KiB" }),
    error: z.enum(ATTEMPT_ERRORS).nullable(),
    requestHeaders: z.record(z.string(), z.string()).openapi({ description: "Signatures and credentials redacted" }),
    requestBody: z.string(),
  })
  .openapi("DeliveryAttempt");

export const serializeDelivery = (d: DeliveryRecord) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  webhookId: d.webhookId,
  status: d.status,
  attemptCount: d.attempts,
  nextAttemptAt: d.status === "pending" ? toIso(d.nextAttemptAt) : null,
  lastAttemptAt: toIso(d.lastAttemptAt),
  lastStatusCode: d.lastStatusCode,
  lastDurationMs: d.lastDurationMs,
  createdAt: d.createdAt.toISOString(),
});

export const serializeAttempt = (a: AttemptRecord) => ({
  attempt: a.attempt,
  at: a.at.toISOString(),
  statusCode: a.statusCode,
  durationMs: a.durationMs,
  responseBody: a.responseBody,
  error: a.error,
  requestHeaders: a.requestHeaders,
  requestBody: a.requestBody,
});

/** The delivery log's filters, shared with the operator's log. */
export const DeliveryQuery = pageQuery.extend({
  webhookId: z.string().max(64).optional(),
  eventId: z.string().max(64).optional(),
  eventType: z.string().max(100).optional(),
  status: Status.optional(),
  since: IsoTimeQuery.optional(),
  until: IsoTimeQuery.optional(),
});

export type DeliveryTexts = Record<"list" | "get" | "retry", RouteText>;

/** Tenant and operator alike. */
export const RETRY_DESCRIPTION =
  "For a failed, cancelled or succeeded delivery: one more attempt outside the schedule. 409 while one is pending.";

/**
 * The delivery log's three routes, for a tenant's deliveries or (the admin twin) those to the
 * operator's endpoints, whose rows and filters carry `tenantId` as well: `schemas` says which.
 */
export function deliveryRoutes<Q extends typeof DeliveryQuery, D extends z.ZodType, A extends z.ZodType>(
  security: Record<string, string[]>[],
  tags: string[],
  text: DeliveryTexts,
  schemas: { query: Q; shown: D; withAttempts: A },
) {
  return {
    list: createRoute({
      method: "get",
      path: "/",
      tags,
      ...text.list,
      security,
      request: { query: schemas.query },
      responses: { 200: jsonResponse(listOf(schemas.shown), "A page of deliveries"), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{id}",
      tags,
      ...text.get,
      security,
      request: { params: idParam("dlv") },
      responses: { 200: jsonResponse(schemas.withAttempts, "The delivery"), ...errorResponses },
    }),
    retry: createRoute({
      method: "post",
      path: "/{id}/retry",
      tags,
      ...text.retry,
      security,
      request: { params: idParam("dlv") },
      responses: { 202: jsonResponse(schemas.shown, "Queued"), ...errorResponses, 409: errorResponses[400] },
    }),
  };
}

export const DeliveryWithAttemptsSchema = DeliverySchema.extend({ attempts: z.array(AttemptSchema) }).openapi("DeliveryWithAttempts");

const TENANT_TEXT: DeliveryTexts = {
  list: { summary: "The delivery log, newest first" },
  get: { summary: "A delivery with every attempt" },
  retry: { summary: "Attempt a delivery once more, now", description: RETRY_DESCRIPTION },
};

/** `/v1/deliveries`: the tenant's delivery log (webhooks:read / webhooks:write). */
export function deliveriesRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("webhooks"), readBody());
  const routes = deliveryRoutes(tenantSecurity, ["Deliveries"], TENANT_TEXT, {
    query: DeliveryQuery,
    shown: DeliverySchema,
    withAttempts: DeliveryWithAttemptsSchema,
  });

  app.openapi(routes.list, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    return c.json(page(await listDeliveryLog(tenantOp(c), limit, filter, decodeCursor(cursor)), serializeDelivery), 200);
  });
  app.openapi(routes.get, async (c) => {
    const { delivery, attempts } = await deliveryWithAttempts(tenantOp(c), c.req.valid("param").id);
    return c.json({ ...serializeDelivery(delivery), attempts: attempts.map(serializeAttempt) }, 200);
  });
  app.openapi(routes.retry, async (c) => c.json(serializeDelivery(await retryDelivery(tenantOp(c), c.req.valid("param").id)), 202));
  return app;
}
