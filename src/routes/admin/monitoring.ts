import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../../http/authenticate";
import { adminSecurity, createRouter, errorResponses, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, encodeCursor, pageQuery } from "../../http/pagination";
import { UsagePointSchema, UsageQuery, usageSeries } from "../../http/usage-schemas";
import { ValidationError } from "../../lib/errors";
import { tenantUsage, usageRanking } from "../../monitoring/usage";
import { requestErrorOf, requestErrorPage, requestErrorRoutes } from "../requests";
import { TENANT_USAGE_TEXT, tenantUsageRoute } from "../usage";
import { opOf, tenantScoped, tenantScopedRouter } from "./tenant-scoped";

const tags = ["Operator"];

const TenantUsageSchema = UsagePointSchema.omit({ start: true })
  .extend({ tenantId: z.string(), name: z.string().nullable() })
  .openapi("TenantUsage");

const rankingRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Every tenant's requests by outcome, most requests first",
  description:
    "Totals over the granularity's whole horizon: `day` (the default) the last 90 days, `hour` the last 48 hours, `minute` the last 60 minutes. " +
    "Hookgate's API and the gateway alike, every mode.",
  security: adminSecurity,
  request: { query: pageQuery.extend(UsageQuery.shape) },
  responses: { 200: jsonResponse(listOf(TenantUsageSchema), "Tenants, most requests first"), ...errorResponses },
});

/** `GET /admin/usage`: tenants ranked by requests. */
export function adminUsageRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin());
  app.openapi(rankingRoute, async (c) => {
    const { limit, cursor, granularity } = c.req.valid("query");
    const offset = decodeCursor(cursor)?.t ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new ValidationError([{ path: "cursor", message: "is not a valid cursor" }], "invalid_query");
    const { rows, more } = await usageRanking(c.env, c.get("config"), granularity, limit, offset);
    const nextCursor = more ? encodeCursor({ t: offset + limit, id: granularity }) : null;
    return c.json({ data: rows, nextCursor }, 200);
  });
  return app;
}

/** `GET /admin/tenants/{tenantId}/usage`: one tenant's requests by outcome, every mode. */
export function adminTenantUsageRoutes() {
  const app = tenantScopedRouter("usage");
  const route = tenantScoped(tenantUsageRoute, "usage", {
    security: adminSecurity,
    tags,
    summary: `A tenant's ${TENANT_USAGE_TEXT.summary.toLowerCase()}`,
  });
  app.openapi(route, async (c) => c.json(usageSeries(await tenantUsage(await opOf(c), c.req.valid("query").granularity)), 200));
  return app;
}

/** `GET /admin/tenants/{tenantId}/requests[/{requestId}]`: support looks up what a tenant's request was answered. */
export function adminTenantRequestsRoutes() {
  const app = tenantScopedRouter("requests");
  const routes = requestErrorRoutes(adminSecurity, tags, {
    list: {
      summary: "A tenant's request errors, newest first",
      description: "Every non-2xx answer to the tenant's credentials, both modes.",
    },
    get: {
      summary: "A tenant's request error, by the X-Request-Id its caller got",
      description: "404 for a request that succeeded, or an unknown id.",
    },
  });
  app.openapi(tenantScoped(routes.list, "requests"), async (c) => c.json(await requestErrorPage(await opOf(c), c.req.valid("query")), 200));
  app.openapi(tenantScoped(routes.get, "requests"), async (c) =>
    c.json(await requestErrorOf(await opOf(c), c.req.valid("param").requestId), 200),
  );
  return app;
}
