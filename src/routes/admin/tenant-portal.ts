import { createRoute, z } from "@hono/zod-openapi";
import { createPortalLink } from "../../auth/portal-links";
import { adminSecurity, errorResponses, jsonBody, jsonResponse } from "../../http/openapi";
import { ScopesSchema } from "../../http/schemas";
import { CreatePortalSessionBody, PortalLinkSchema, serializePortalLink } from "../portal-sessions";
import { opOf, tenantScoped, tenantScopedRouter } from "./tenant-scoped";

const OperatorPortalSessionBody = CreatePortalSessionBody.extend({
  scopes: ScopesSchema.optional().openapi({
    description: "Default: every scope a tenant credential can hold (api:read api:write, the product's scopes included)",
  }),
  readOnly: z.boolean().optional().openapi({ description: "Keep only the `:read` scopes" }),
}).openapi("CreateOperatorPortalSession");

const route = createRoute({
  method: "post",
  path: "/",
  tags: ["Operator"],
  summary: "Make a one-time link into a tenant's embeddable portal, from the operator's backend",
  description:
    "The same link as `POST /v1/portal-sessions`, without holding any tenant key: embed the tenant's Integrations page " +
    "in your product. The session acts as the tenant's operator-portal credential (`opr_...` in the tenant's audit log). " +
    "Audited as `portal_session.created` in the tenant's log and the operator's.",
  security: adminSecurity,
  request: jsonBody(OperatorPortalSessionBody, false),
  responses: { 201: jsonResponse(PortalLinkSchema, "The link, shown once"), ...errorResponses },
});

/** `POST /admin/tenants/{tenantId}/portal-sessions`. */
export function adminTenantPortalRoutes() {
  const app = tenantScopedRouter("portal-sessions");
  app.openapi(tenantScoped(route, "portal-sessions"), async (c) =>
    c.json(serializePortalLink(c.req.url, await createPortalLink(await opOf(c), c.req.valid("json") ?? {})), 201),
  );
  return app;
}
