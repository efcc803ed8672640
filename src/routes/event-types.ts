import { createRoute, z } from "@hono/zod-openapi";
import { auditActor, requireCredential } from "../auth/authenticate";
import { recordAudit } from "../db/audit";
import { createDb } from "../db/client";
import {
  getEventType,
  listEventTypes,
  updateEventType,
  upsertEventTypeUnderQuota,
  type EventTypeRow,
} from "../db/event-types";
import { ApiError } from "../errors";
import { readBody } from "../http/middleware";
import {
  conflictResponse,
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  listOf,
  tenantSecurity,
  toIso,
} from "../http/openapi";
import { decodeCursor, encodeCursor, pageQuery } from "../http/pagination";
import { schemaProblems } from "../lib/json-schema";

/** Lowercase dotted names, case-sensitive: `invoice.paid`, `user.profile_updated`. */
export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

const EventTypeName = z
  .string()
  .max(100, "must be at most 100 characters")
  .regex(EVENT_TYPE_NAME, "must be lowercase dotted words, e.g. invoice.paid");

const JsonSchemaBody = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    if (JSON.stringify(schema).length > 64 * 1024) ctx.addIssue({ code: "custom", message: "must be at most 64 KiB" });
    for (const p of schemaProblems(schema, "")) {
      ctx.addIssue({
        code: "custom",
        message: p.message,
        path: p.path.split(".").filter(Boolean),
        ...(p.allowed && { params: { allowed: p.allowed } }),
      });
    }
  })
  .openapi({ description: "JSON Schema (2020-12) that `data` of published events must satisfy" });

const EventTypeSchema = z
  .object({
    name: z.string().openapi({ example: "invoice.paid" }),
    description: z.string().nullable(),
    schema: z.record(z.string(), z.unknown()).nullable(),
    deprecated: z.boolean(),
    archived: z.boolean(),
    archivedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("EventType");

function serialize(t: EventTypeRow) {
  return {
    name: t.name,
    description: t.description,
    schema: t.schema ?? null,
    deprecated: t.deprecated,
    archived: t.archivedAt !== null,
    archivedAt: toIso(t.archivedAt),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const CreateBody = z
  .strictObject({
    name: EventTypeName,
    description: z.string().max(1000).optional(),
    schema: JsonSchemaBody.optional(),
  })
  .openapi("CreateEventType");

const PatchBody = z
  .strictObject({
    description: z.string().max(1000).nullable().optional(),
    schema: JsonSchemaBody.nullable().optional(),
    deprecated: z.boolean().optional(),
  })
  .openapi("UpdateEventType");

const NameParam = z.object({
  name: z.string().max(100).openapi({ param: { name: "name", in: "path" }, example: "invoice.paid" }),
});
const tags = ["Event types"];

const createRoute_ = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Add an event type to the catalog",
  description: "Re-creating an archived type's name brings it back with the new description and schema.",
  security: tenantSecurity,
  request: jsonBody(CreateBody),
  responses: { 201: jsonResponse(EventTypeSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List event types, by name",
  security: tenantSecurity,
  request: {
    query: pageQuery.extend({
      includeArchived: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
    }),
  },
  responses: { 200: jsonResponse(listOf(EventTypeSchema), "A page of types"), ...errorResponses },
});

const getRoute = createRoute({
  method: "get",
  path: "/{name}",
  tags,
  summary: "Get an event type (archived ones too)",
  security: tenantSecurity,
  request: { params: NameParam },
  responses: { 200: jsonResponse(EventTypeSchema, "The type"), ...errorResponses },
});

const patchRoute = createRoute({
  method: "patch",
  path: "/{name}",
  tags,
  summary: "Update an event type's description, schema or deprecation",
  security: tenantSecurity,
  request: { params: NameParam, ...jsonBody(PatchBody) },
  responses: { 200: jsonResponse(EventTypeSchema, "The updated type"), ...errorResponses },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/{name}",
  tags,
  summary: "Archive an event type (its events stay)",
  security: tenantSecurity,
  request: { params: NameParam },
  responses: { 204: { description: "Archived" }, ...errorResponses },
});

export function eventTypesRoutes() {
  const app = createRouter();
  app.use("*", readBody(), requireCredential("events"));

  app.openapi(createRoute_, async (c) => {
    const principal = c.get("principal");
    const body = c.req.valid("json");
    const db = createDb(c.env.DB);
    const now = new Date();
    const row: EventTypeRow = {
      tenantId: principal.tenant.id,
      name: body.name,
      description: body.description ?? null,
      schema: body.schema ?? null,
      deprecated: false,
      archivedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await upsertEventTypeUnderQuota(c.env.DB, row, principal.tenant.quotas.eventTypes))) {
      const existing = await getEventType(db, principal.tenant.id, body.name);
      if (existing && !existing.archivedAt) {
        throw new ApiError("duplicate_name", `An event type named ${body.name} already exists`);
      }
      throw ApiError.quota("eventTypes", principal.tenant.quotas.eventTypes, "event types");
    }
    await recordAudit(db, auditActor(principal, c.get("requestId")), "event_type.created", body.name);
    const stored = await getEventType(db, principal.tenant.id, body.name);
    return c.json(serialize(stored ?? row), 201);
  });

  app.openapi(listRoute, async (c) => {
    const { limit, cursor, includeArchived } = c.req.valid("query");
    const rows = await listEventTypes(createDb(c.env.DB), c.get("principal").tenant.id, limit, {
      ...(cursor && { afterName: decodeCursor(cursor)!.id }),
      includeArchived,
    });
    const more = rows.length > limit;
    const kept = more ? rows.slice(0, limit) : rows;
    // Names are unique and ordered: the last one is the position.
    return c.json({ data: kept.map(serialize), nextCursor: more ? encodeCursor({ t: 0, id: kept[kept.length - 1]!.name }) : null }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const row = await getEventType(createDb(c.env.DB), c.get("principal").tenant.id, c.req.valid("param").name);
    if (!row) throw ApiError.notFound("Event type");
    return c.json(serialize(row), 200);
  });

  app.openapi(patchRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const { name } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await getEventType(db, principal.tenant.id, name);
    if (!row || row.archivedAt) throw ApiError.notFound("Event type");
    const set = {
      ...(body.description !== undefined && { description: body.description }),
      ...(body.schema !== undefined && { schema: body.schema }),
      ...(body.deprecated !== undefined && { deprecated: body.deprecated }),
    };
    // The response shows exactly what is stored: the same updatedAt, or the old one when nothing changed.
    let updatedAt = row.updatedAt;
    if (Object.keys(set).length > 0) {
      updatedAt = new Date();
      await updateEventType(db, principal.tenant.id, name, set, updatedAt);
      await recordAudit(db, auditActor(principal, c.get("requestId")), "event_type.updated", name, { fields: Object.keys(set) });
    }
    return c.json(serialize({ ...row, ...set, updatedAt }), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const { name } = c.req.valid("param");
    const row = await getEventType(db, principal.tenant.id, name);
    if (!row || row.archivedAt) throw ApiError.notFound("Event type");
    await updateEventType(db, principal.tenant.id, name, { archivedAt: new Date() });
    await recordAudit(db, auditActor(principal, c.get("requestId")), "event_type.archived", name);
    return c.body(null, 204);
  });

  return app;
}
