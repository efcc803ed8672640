import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantOp } from "../auth/caller";
import { EVENT_TYPE_OWNERS } from "../db/schema";
import { archiveEventType, EVENT_TYPE_NAME, eventTypeOwner } from "../events/event-types";
import {
  changeEventTypeWithVersions,
  createEventTypeWithVersions,
  describeEventType,
  type EventTypeView,
  listCatalogWithVersions,
} from "../events/type-versions";
import { requireCredential } from "../http/authenticate";
import { type AppEnv, tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import {
  conflictResponse,
  createRouter,
  errorResponses,
  jsonBody,
  jsonResponse,
  listOf,
  type RouteText,
  tenantSecurity,
  toIso,
} from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { mountTypeVersions, serializeTypeVersion, TypeVersionSchema } from "./event-type-versions";

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
        "event Hookgate itself publishes (endpoint degraded/disabled/recovered, delivery failing/exhausted, and the " +
        "credential alerts: limit approaching, rate limited, expiring, dormant)",
    }),
    description: z.string().nullable(),
    schema: z.record(z.string(), z.unknown()).nullable(),
    deprecated: z.boolean(),
    archived: z.boolean(),
    archivedAt: z.string().nullable(),
    versions: z.array(TypeVersionSchema).openapi({ description: "Its payload versions, oldest first (none: unversioned)" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("EventType");

export function serializeEventType(t: EventTypeView) {
  return {
    name: t.name,
    owner: eventTypeOwner(t),
    description: t.description,
    schema: t.schema ?? null,
    deprecated: t.deprecated,
    archived: t.archivedAt !== null,
    archivedAt: toIso(t.archivedAt),
    versions: t.versions.map(serializeTypeVersion),
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
export const EventTypesQuery = pageQuery.extend({
  includeArchived: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
});

export type EventTypeTexts = Record<"create" | "list" | "get" | "patch" | "delete", RouteText>;

const READ_ONLY_HERE =
  "The operator's types (`owner: operator`) are read-only here: 403 `operator_event_type`; Hookgate's own " +
  "(`owner: hookgate`, `hookgate.*`) everywhere: 403 `reserved_event_type`.";

const TENANT_TEXT: EventTypeTexts = {
  create: {
    summary: "Add an event type to the catalog",
    description:
      "Re-creating an archived type's name brings it back with the new description and schema. " +
      "A name of the operator's catalog cannot be taken (409 `duplicate_name`); `hookgate.*` names are reserved (403 `reserved_event_type`).",
  },
  list: { summary: "List event types, by name: the account's own and the operator's" },
  get: { summary: "Get an event type (archived ones too)" },
  patch: { summary: "Update an event type's description, schema or deprecation", description: READ_ONLY_HERE },
  delete: { summary: "Archive an event type (its events stay)", description: READ_ONLY_HERE },
};

/** The catalog's five routes, for a tenant's own types or (the admin twin) the operator's. */
export function eventTypeRoutes(security: Record<string, string[]>[], tags: string[], text: EventTypeTexts) {
  return {
    create: createRoute({
      method: "post",
      path: "/",
      tags,
      ...text.create,
      security,
      request: jsonBody(CreateEventTypeBody),
      responses: { 201: jsonResponse(EventTypeSchema, "Created"), ...errorResponses, ...conflictResponse },
    }),
    list: createRoute({
      method: "get",
      path: "/",
      tags,
      ...text.list,
      security,
      request: { query: EventTypesQuery },
      responses: { 200: jsonResponse(listOf(EventTypeSchema), "A page of types"), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{name}",
      tags,
      ...text.get,
      security,
      request: { params: EventTypeNameParam },
      responses: { 200: jsonResponse(EventTypeSchema, "The type"), ...errorResponses },
    }),
    patch: createRoute({
      method: "patch",
      path: "/{name}",
      tags,
      ...text.patch,
      security,
      request: { params: EventTypeNameParam, ...jsonBody(PatchEventTypeBody) },
      responses: { 200: jsonResponse(EventTypeSchema, "The updated type"), ...errorResponses },
    }),
    delete: createRoute({
      method: "delete",
      path: "/{name}",
      tags,
      ...text.delete,
      security,
      request: { params: EventTypeNameParam },
      responses: { 204: { description: "Archived" }, ...errorResponses },
    }),
  };
}

/** Mounts the catalog routes on `app`, each operation run as `op(c)`. */
export function mountEventTypes(
  app: ReturnType<typeof createRouter>,
  routes: ReturnType<typeof eventTypeRoutes>,
  op: (c: Context<AppEnv>) => TenantOp,
) {
  app.openapi(routes.create, async (c) => c.json(serializeEventType(await createEventTypeWithVersions(op(c), c.req.valid("json"))), 201));
  app.openapi(routes.list, async (c) => {
    const { limit, cursor, includeArchived } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const types = await listCatalogWithVersions(op(c), limit, { ...(after && { afterName: after.id }), includeArchived });
    return c.json(page(types, serializeEventType), 200);
  });
  app.openapi(routes.get, async (c) => c.json(serializeEventType(await describeEventType(op(c), c.req.valid("param").name)), 200));
  app.openapi(routes.patch, async (c) => {
    return c.json(serializeEventType(await changeEventTypeWithVersions(op(c), c.req.valid("param").name, c.req.valid("json"))), 200);
  });
  app.openapi(routes.delete, async (c) => {
    await archiveEventType(op(c), c.req.valid("param").name);
    return c.body(null, 204);
  });
}

/** `/v1/event-types`: the tenant's catalog (events:read / events:write). */
export function eventTypesRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("events"), readBody());
  mountEventTypes(app, eventTypeRoutes(tenantSecurity, ["Event types"], TENANT_TEXT), tenantOp);
  mountTypeVersions(app, tenantSecurity, ["Event types"], tenantOp);
  return app;
}
