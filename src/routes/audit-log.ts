import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { TenantOp } from "../auth/caller";
import { requireCredential } from "../http/authenticate";
import { type AppEnv, tenantOp } from "../http/context";
import { createRouter, errorResponses, jsonResponse, listOf, type RouteText, tenantSecurity } from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { listAuditLog, type NamedAuditRow } from "../tenants/audit-log";

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.string().openapi({
      description: "Credential id; `operator` (or `operator:<email>` for staff signed in through Cloudflare Access) for the operator API",
    }),
    actorName: z.string().nullable().openapi({
      description: "Who that is: the key's or OAuth client's name, `Operator`, or the staff member's email; null when unknown",
    }),
    action: z.string().openapi({ example: "key.revoked" }),
    target: z.string(),
    ip: z.string().nullable(),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

export const serializeAuditEntry = (r: NamedAuditRow) => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: r.actor,
  actorName: r.actorName,
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

/** The audit log's one route, for a tenant's log or (the admin twin) the operator's own. */
export function auditLogRoute(security: Record<string, string[]>[], tags: string[], text: RouteText) {
  return createRoute({
    method: "get",
    path: "/",
    tags,
    ...text,
    security,
    request: { query: AuditQuery },
    responses: { 200: jsonResponse(listOf(AuditEntrySchema), "A page of entries"), ...errorResponses },
  });
}

/** Mounts the audit log's route on `app`, its log the one `op(c)` owns. */
export function mountAuditLog(
  app: ReturnType<typeof createRouter>,
  route: ReturnType<typeof auditLogRoute>,
  op: (c: Context<AppEnv>) => Pick<TenantOp, "env" | "tenant"> | Promise<Pick<TenantOp, "env" | "tenant">>,
) {
  app.openapi(route, async (c) => {
    const { limit, cursor, action } = c.req.valid("query");
    const entries = await listAuditLog(await op(c), limit, { after: decodeCursor(cursor), ...(action && { action }) });
    return c.json(page(entries, serializeAuditEntry), 200);
  });
}

/** `GET /v1/audit-log`: the tenant's log (audit:read). */
export function auditLogRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("audit"));
  mountAuditLog(app, auditLogRoute(tenantSecurity, ["Audit log"], { summary: "List audit entries, newest first" }), tenantOp);
  return app;
}
