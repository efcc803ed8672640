import { createRoute, z } from "@hono/zod-openapi";
import type { DeliveryRecord, EventRecord } from "../data/records";
import { DELIVERY_STATUSES } from "../db/schema";
import { eventWithDeliveries, pollTenantEvents } from "../events/events";
import { publishEvent } from "../events/publish";
import { requireCredential } from "../http/authenticate";
import { inlineRuntime, tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf, tenantSecurity, toIso } from "../http/openapi";
import { decodePollCursor, encodePollCursor, pageQuery } from "../http/pagination";
import { IsoTimeQuery } from "../http/schemas";
import { VersionPin } from "../http/webhook-schemas";

const DeliverySummary = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attemptCount: z.number().int(),
    lastAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
  })
  .openapi("DeliverySummary");

const EventSchema = z
  .object({
    id: z.string().openapi({ example: "evt_2Jd8..." }),
    type: z.string(),
    createdAt: z.string(),
    data: z.unknown(),
    orderingKey: z
      .string()
      .optional()
      .openapi({ description: "Present when the event has one: an ordered subscription sends the deliveries of one key one at a time" }),
    version: z.string().optional().openapi({ description: "The payload version `data` is (present when its type has versions)" }),
    versionError: z.string().optional().openapi({
      description: "Polling with `version`: why the data could not be downgraded to it (`data` and `version` are then as published)",
    }),
  })
  .openapi("Event");

export const EventWithDeliveries = EventSchema.extend({ deliveries: z.array(DeliverySummary) }).openapi("EventWithDeliveries");

export const PublishBody = z
  .strictObject({
    type: z.string().max(100).openapi({ example: "invoice.paid" }),
    data: z.unknown().refine((d) => d !== undefined, "is required"),
    orderingKey: z.string().min(1).max(128, "must be at most 128 characters").optional().openapi({
      description:
        'Subscriptions with `ordering: "key"` send the deliveries of events sharing this key one at a time, in the order the events were accepted',
      example: "customer_42",
    }),
  })
  .openapi("PublishEvent");

export const serializeEvent = (e: EventRecord & { versionError?: string }) => ({
  id: e.id,
  type: e.type,
  createdAt: e.createdAt.toISOString(),
  data: JSON.parse(e.data) as unknown,
  ...(e.orderingKey && { orderingKey: e.orderingKey }),
  ...(e.version && { version: e.version }),
  ...(e.versionError && { versionError: e.versionError }),
});

/** A publish's body and Idempotency-Key as the domain takes them (the tenant's and the operator's publish alike). */
export const publishInput = (body: z.infer<typeof PublishBody>, idempotencyKey: string | undefined) => ({
  type: body.type,
  data: body.data,
  ...(idempotencyKey && { idempotencyKey }),
  ...(body.orderingKey !== undefined && { orderingKey: body.orderingKey }),
});

export const serializeDeliverySummary = (d: DeliveryRecord) => ({
  id: d.id,
  webhookId: d.webhookId,
  status: d.status,
  attemptCount: d.attempts,
  lastAttemptAt: toIso(d.lastAttemptAt),
  lastStatusCode: d.lastStatusCode,
});

const tags = ["Events"];
export const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255, "must be at most 255 characters")
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional()
    .openapi({ description: "Idempotency-Key: replays within 24 h return the first result" }),
});

const publishRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Publish an event: it is stored and delivered to every matching subscription",
  description: "Types of the operator's catalog (`owner: operator`) are published by the operator only: 403 `operator_event_type`.",
  security: tenantSecurity,
  request: { headers: IdempotencyHeader, ...jsonBody(PublishBody) },
  responses: { 202: jsonResponse(EventWithDeliveries, "Accepted for delivery"), ...errorResponses },
});

const listEventsRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Poll events in the order they were stored (oldest first)",
  description:
    "Page with `nextCursor` (null on the last page). `pollCursor` is always the position after the last event " +
    "returned (or the cursor you sent): store it and poll with it to get only newer events. Events are in commit " +
    "order, so one stored while you page is never skipped nor repeated.",
  security: tenantSecurity,
  request: {
    query: pageQuery.extend({
      // A position in each of the tenant's data shards: longer than other lists' cursors.
      cursor: z.string().max(2048).optional().openapi({ description: "Opaque; from `nextCursor` or `pollCursor`" }),
      type: z.string().max(100).optional(),
      version: VersionPin.optional().openapi({
        description: "Each event's data at the newest version of its type at or before this date, as a subscription pinned there gets it",
      }),
      since: IsoTimeQuery.optional(),
      until: IsoTimeQuery.optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      listOf(EventSchema).extend({ pollCursor: z.string().nullable().openapi({ description: "Resume polling from here" }) }),
      "A page of events",
    ),
    ...errorResponses,
  },
});

const getEventRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an event with its deliveries",
  security: tenantSecurity,
  request: { params: idParam("evt") },
  responses: { 200: jsonResponse(EventWithDeliveries, "The event"), ...errorResponses },
});

export function eventsRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("events"), readBody());

  app.openapi(publishRoute, async (c) => {
    const principal = c.get("principal");
    const input = {
      ...publishInput(c.req.valid("json"), c.req.valid("header")["idempotency-key"]),
      mode: principal.mode,
      publisher: "tenant" as const,
    };
    const result = await publishEvent(c.env, c.get("config"), principal.tenant, input, inlineRuntime(c));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json({ ...serializeEvent(result.event), deliveries: result.deliveries.map(serializeDeliverySummary) }, 202);
  });

  app.openapi(listEventsRoute, async (c) => {
    const { limit, cursor, type, since, until, version } = c.req.valid("query");
    const found = await pollTenantEvents(
      tenantOp(c),
      { limit, ...(type && { type }), ...(since && { since }), ...(until && { until }) },
      decodePollCursor(cursor),
      version,
    );
    // Polling resumes after the last event returned (or where the caller already was, moved past closed days).
    const position = encodePollCursor(found.position);
    return c.json({ data: found.rows.map(serializeEvent), nextCursor: found.more ? position : null, pollCursor: position }, 200);
  });

  app.openapi(getEventRoute, async (c) => {
    const { event, deliveries } = await eventWithDeliveries(tenantOp(c), c.req.valid("param").id);
    return c.json({ ...serializeEvent(event), deliveries: deliveries.map(serializeDeliverySummary) }, 200);
  });

  return app;
}
