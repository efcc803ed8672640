import { createRoute } from "@hono/zod-openapi";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { createRouter, errorResponses, jsonResponse, tenantSecurity } from "../http/openapi";
import { UsageQuery, UsageSeriesSchema, usageSeries } from "../http/usage-schemas";
import { tenantUsage } from "../monitoring/usage";

export const TENANT_USAGE_TEXT = {
  summary: "Requests by outcome, every credential added up",
  description:
    "`ok` (2xx/3xx), `clientErrors` (4xx but 429), `rateLimited` (429), `serverErrors` (5xx), for Hookgate's API and the gateway. " +
    "Counts are added up where requests are answered and written at least every 10 seconds.",
};

export const tenantUsageRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["Usage"],
  ...TENANT_USAGE_TEXT,
  security: tenantSecurity,
  request: { query: UsageQuery },
  responses: { 200: jsonResponse(UsageSeriesSchema, "Buckets, newest first"), ...errorResponses },
});

/** `/v1/usage`: the tenant's requests by outcome (`keys:read`). */
export function usageRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("keys"));
  app.openapi(tenantUsageRoute, async (c) => c.json(usageSeries(await tenantUsage(tenantOp(c), c.req.valid("query").granularity)), 200));
  return app;
}
