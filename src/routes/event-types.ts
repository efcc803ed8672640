import { createRoute, z } from "@hono/zod-openapi";
import type { EventTypeRow } from "../db/event-types";
import { EVENT_TYPE_OWNERS } from "../db/schema";
import {
  archiveEventType,
  changeEventType,
  createEventType,
  EVENT_TYPE_NAME,
  eventTypeOwner,
  findEventType,
  listCatalog,
} from "../events/event-types";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import { conflictResponse, createRouter, errorResponses, jsonBody, jsonResponse, listOf, tenantSecurity, toIso } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";

const EventTypeName = z
  .string()
  .max(100, "must be at most 100 characters")
  .regex(EVENT_TYPE_NAME, "must be lowercase dotted words, e.g. invoice.paid");

// Only its size is checked here: whether it is safe to apply is checked where it is stored (src/events/event-types.ts).
const JsonSchemaBody = z
  .record(z.string(), z.unknown())
  .refine((schema) => JSON.stringify(schema).length <= 64 * 1024, "must be at most 64 KiB")
  .openapi({
    description:
      "JSON Schema (2020-12) that `data` of published events must satisfy. Checked when stored: `$ref`s must be local and " +
      "resolvable and may not recurse without descending into the data; patterns run on a linear-time engine (RE2), so " +
      "lookarounds and backreferences are refused.",
  });

export const EventTypeSchema = z
  .object({
    name: z.string().openapi({ example: "invoice.paid" }),
    owner: z.enum(EVENT_TYPE_OWNERS).openapi({
      description:
        "`operator`: a type of the operator's product, which only the operator publishes; `hookgate`: an operational " +
        "event Hookgate itself publishes (endpoint disabled/recovered, delivery failing/exhausted)",
    }),
    description: z.string().nullable(),
    schema: z.record(z.string(), z.unknown()).nullable(),
    deprecated: z.boolean(),
    archived: z.boolean(),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("EventType");

export function serializeEventType(t: EventTypeRow) {
  return {
    name: t.name,
    owner: eventTypeOwner(t),
    description: t.description,
    schema: t.schema ?? null,
    deprecated: t.deprecated,
    archived: t.archivedAt !== null,
    archivedAt: toIso(t.archivedAt),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export const CreateEventTypeBody = z
  .strictObject({
    name: EventTypeName,
    description: z.string().max(1000).optional(),
    schema: JsonSchemaBody.optional(),
  })
  .openapi("CreateEventType");

export const PatchEventTypeBody = z
  .strictObject({
    description: z.string().max(1000).nullable().optional(),
    schema: JsonSchemaBody.nullable().optional(),
    deprecated: z.boolean().optional(),
  })
  .openapi("UpdateEventType");

export const EventTypeNameParam = z.object({
  name: z
    .string()
    .max(100)
    .openapi({ param: { name: "name", in: "path" }, example: "invoice.paid" }),
});
const tags = ["Event types"];

const createEventTypeRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Add an event type to the catalog",
  description:
    "Re-creating an archived type's name brings it back with the new description and schema. " +
    "A name of the operator's catalog cannot be taken (409 `duplicate_name`); `hookgate.*` names are reserved (403 `reserved_event_type`).",
  security: tenantSecurity,
  request: jsonBody(CreateEventTypeBody),
  responses: { 201: jsonResponse(EventTypeSchema, "Created"), ...errorResponses, ...conflictResponse },
});

export const EventTypesQuery = pageQuery.extend({
  includeArchived: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

const listEventTypesRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List event types, by name: the account's own and the operator's",
  security: tenantSecurity,
  request: { query: EventTypesQuery },
  responses: { 200: jsonResponse(listOf(EventTypeSchema), "A page of types"), ...errorResponses },
});

const getEventTypeRoute = createRoute({
  method: "get",
  path: "/{name}",
  tags,
  summary: "Get an event type (archived ones too)",
  security: tenantSecurity,
  request: { params: EventTypeNameParam },
  responses: { 200: jsonResponse(EventTypeSchema, "The type"), ...errorResponses },
});

const patchEventTypeRoute = createRoute({
  method: "patch",
  path: "/{name}",
  tags,
  summary: "Update an event type's description, schema or deprecation",
  description:
    "The operator's types (`owner: operator`) are read-only here: 403 `operator_event_type`; Hookgate's own " +
    "(`owner: hookgate`, `hookgate.*`) everywhere: 403 `reserved_event_type`.",
  security: tenantSecurity,
  request: { params: EventTypeNameParam, ...jsonBody(PatchEventTypeBody) },
  responses: { 200: jsonResponse(EventTypeSchema, "The updated type"), ...errorResponses },
});

const deleteEventTypeRoute = createRoute({
  method: "delete",
  path: "/{name}",
  tags,
  summary: "Archive an event type (its events stay)",
  description:
    "The operator's types (`owner: operator`) are read-only here: 403 `operator_event_type`; Hookgate's own " +
    "(`owner: hookgate`, `hookgate.*`) everywhere: 403 `reserved_event_type`.",
  security: tenantSecurity,
  request: { params: EventTypeNameParam },
  responses: { 204: { description: "Archived" }, ...errorResponses },
});

export function eventTypesRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("events"), readBody());

  app.openapi(createEventTypeRoute, async (c) => {
    return c.json(serializeEventType(await createEventType(tenantOp(c), c.req.valid("json"))), 201);
  });

  app.openapi(listEventTypesRoute, async (c) => {
    const { limit, cursor, includeArchived } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const types = await listCatalog(tenantOp(c), limit, { ...(after && { afterName: after.id }), includeArchived });
    return c.json(page(types, serializeEventType), 200);
  });

  app.openapi(getEventTypeRoute, async (c) => {
    return c.json(serializeEventType(await findEventType(tenantOp(c), c.req.valid("param").name)), 200);
  });

  app.openapi(patchEventTypeRoute, async (c) => {
    return c.json(serializeEventType(await changeEventType(tenantOp(c), c.req.valid("param").name, c.req.valid("json"))), 200);
  });

  app.openapi(deleteEventTypeRoute, async (c) => {
    await archiveEventType(tenantOp(c), c.req.valid("param").name);
    return c.body(null, 204);
  });

  return app;
}
