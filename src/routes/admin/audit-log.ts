import { createRoute } from "@hono/zod-openapi";
import { listAudit, OPERATOR_LOG } from "../../db/audit";
import { createDb } from "../../db/client";
import { requireAdmin } from "../../http/authenticate";
import { adminSecurity, createRouter, errorResponses, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import { AuditEntrySchema, AuditQuery, serializeAuditEntry } from "../audit-log";

const listOperatorAuditRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["Operator"],
  summary: "The operator's own audit log, newest first",
  description:
    "Changes to the operator's catalog, endpoints, product scopes and gateway (`operator_event_type.created`, " +
    "`operator_webhook.updated`, `scopes.updated`, ...), with actor `operator`. Changes to a tenant are in that tenant's log.",
  security: adminSecurity,
  request: { query: AuditQuery },
  responses: { 200: jsonResponse(listOf(AuditEntrySchema), "A page of entries"), ...errorResponses },
});

/** `GET /admin/audit-log`: the operator's own log. */
export function adminAuditLogRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin());
  app.openapi(listOperatorAuditRoute, async (c) => {
    const { limit, cursor, action } = c.req.valid("query");
    const entries = await listAudit(createDb(c.env.DB), OPERATOR_LOG, limit, { after: decodeCursor(cursor), ...(action && { action }) });
    return c.json(page(entries, serializeAuditEntry), 200);
  });
  return app;
}
