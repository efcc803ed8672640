import { createRoute } from "@hono/zod-openapi";
import { archiveEventType, changeEventType, createEventType, findEventType, listCatalog } from "../../events/event-types";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, conflictResponse, createRouter, errorResponses, jsonBody, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import { OPERATOR_TENANT } from "../../tenants/operator";
import {
  CreateEventTypeBody,
  EventTypeNameParam,
  EventTypeSchema,
  EventTypesQuery,
  PatchEventTypeBody,
  serializeEventType,
} from "../event-types";

const tags = ["Operator"];

const createOperatorTypeRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Add an event type to the operator's catalog, which every tenant sees",
  description:
    "Tenants may subscribe to and poll these types; only the operator publishes them (`POST /admin/tenants/{id}/events`). " +
    "A name any tenant's catalog holds cannot be taken (409 `duplicate_name`). Re-creating an archived type's name brings it back.",
  security: adminSecurity,
  request: jsonBody(CreateEventTypeBody),
  responses: { 201: jsonResponse(EventTypeSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listOperatorTypesRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List the operator's event types, by name",
  security: adminSecurity,
  request: { query: EventTypesQuery },
  responses: { 200: jsonResponse(listOf(EventTypeSchema), "A page of types"), ...errorResponses },
});

const getOperatorTypeRoute = createRoute({
  method: "get",
  path: "/{name}",
  tags,
  summary: "Get one of the operator's event types (archived ones too)",
  security: adminSecurity,
  request: { params: EventTypeNameParam },
  responses: { 200: jsonResponse(EventTypeSchema, "The type"), ...errorResponses },
});

const patchOperatorTypeRoute = createRoute({
  method: "patch",
  path: "/{name}",
  tags,
  summary: "Update one of the operator's event types",
  security: adminSecurity,
  request: { params: EventTypeNameParam, ...jsonBody(PatchEventTypeBody) },
  responses: { 200: jsonResponse(EventTypeSchema, "The updated type"), ...errorResponses },
});

const deleteOperatorTypeRoute = createRoute({
  method: "delete",
  path: "/{name}",
  tags,
  summary: "Archive one of the operator's event types (its events stay)",
  security: adminSecurity,
  request: { params: EventTypeNameParam },
  responses: { 204: { description: "Archived" }, ...errorResponses },
});

/** The operator's event catalog: `/admin/event-types`, the same operations as a tenant's on the operator's own types. */
export function adminEventTypesRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());

  app.openapi(createOperatorTypeRoute, async (c) => {
    return c.json(serializeEventType(await createEventType(operatorOp(c, OPERATOR_TENANT), c.req.valid("json"))), 201);
  });

  app.openapi(listOperatorTypesRoute, async (c) => {
    const { limit, cursor, includeArchived } = c.req.valid("query");
    const after = decodeCursor(cursor);
    const types = await listCatalog(operatorOp(c, OPERATOR_TENANT), limit, { ...(after && { afterName: after.id }), includeArchived });
    return c.json(page(types, serializeEventType), 200);
  });

  app.openapi(getOperatorTypeRoute, async (c) => {
    return c.json(serializeEventType(await findEventType(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").name)), 200);
  });

  app.openapi(patchOperatorTypeRoute, async (c) => {
    const op = operatorOp(c, OPERATOR_TENANT);
    return c.json(serializeEventType(await changeEventType(op, c.req.valid("param").name, c.req.valid("json"))), 200);
  });

  app.openapi(deleteOperatorTypeRoute, async (c) => {
    await archiveEventType(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").name);
    return c.body(null, 204);
  });

  return app;
}
