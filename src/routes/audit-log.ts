import { createRoute, z } from "@hono/zod-openapi";
import { type AuditRow, listAudit } from "../db/audit";
import { createDb } from "../db/client";
import { requireCredential } from "../http/authenticate";
import { createRouter, errorResponses, jsonResponse, listOf, tenantSecurity } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.string().openapi({ description: "Credential id; `admin` for the operator API, `operator` in the operator's own log" }),
    action: z.string().openapi({ example: "key.revoked" }),
    target: z.string(),
    ip: z.string().nullable(),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

export const serializeAuditEntry = (r: AuditRow) => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: r.actor,
  action: r.action,
  target: r.target,
  ip: r.ip,
  requestId: r.requestId,
  details: r.details ?? null,
});

export const AuditQuery = pageQuery.extend({
  action: z
    .string()
    .max(64)
    .regex(/^[a-z_]+\.[a-z_]+$/, "must look like key.revoked")
    .optional(),
});

export const listAuditRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["Audit log"],
  summary: "List audit entries, newest first",
  security: tenantSecurity,
  request: { query: AuditQuery },
  responses: { 200: jsonResponse(listOf(AuditEntrySchema), "A page of entries"), ...errorResponses },
});

export function auditLogRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("audit"));
  app.openapi(listAuditRoute, async (c) => {
    const { limit, cursor, action } = c.req.valid("query");
    const entries = await listAudit(createDb(c.env.DB), c.get("principal").tenant.id, limit, {
      after: decodeCursor(cursor),
      ...(action && { action }),
    });
    return c.json(page(entries, serializeAuditEntry), 200);
  });
  return app;
}
