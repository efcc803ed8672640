import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { TenantOp } from "../../auth/caller";
import { requireAdmin } from "../../http/authenticate";
import { type AppEnv, operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { ModeQuery } from "../../http/mode-schemas";
import { createRouter } from "../../http/openapi";
import { copyToOperatorLog } from "../../tenants/audit-log";
import { findTenant } from "../../tenants/tenants";

const TenantParam = z.object({
  tenantId: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "tenantId", in: "path" }, example: "ten_8Jd02kLmQpZx4RtYvB1c" }),
});

/**
 * A tenant route's definition moved under `/admin/tenants/{tenantId}/<segment>`: the same
 * request and answers, plus the tenant's id in the path and `?mode=` (the tenant's mode to act
 * in, live by default). The handler reads the tenant and the mode with `opOf`.
 */
export function tenantScoped<R extends RouteConfig>(route: R, segment: string, as?: Pick<RouteConfig, "security" | "tags" | "summary">): R {
  const params = route.request?.params as z.ZodObject | undefined;
  const query = route.request?.query as z.ZodObject | undefined;
  return createRoute({
    ...route,
    ...as,
    path: `/{tenantId}/${segment}${route.path === "/" ? "" : route.path}`,
    request: {
      ...route.request,
      params: params ? TenantParam.extend(params.shape) : TenantParam,
      // A route with its own `mode` (a filter, say) keeps it.
      query: query ? ("mode" in query.shape ? query : query.extend(ModeQuery.shape)) : ModeQuery,
    },
  }) as unknown as R;
}

/** The operation context of a route under `/admin/tenants/{tenantId}`: the operator acts on that tenant (404 if unknown) in `?mode=`. */
export async function opOf(c: Context<AppEnv>): Promise<TenantOp> {
  // Validated by the route's query schema (tenantScoped adds it) before any handler runs.
  const mode = ModeQuery.parse({ mode: c.req.query("mode") }).mode;
  return operatorOp(c, await findTenant(c.env, c.req.param("tenantId") ?? ""), mode);
}

/** After a change the operator made to a tenant's resources, the operator's log repeats the tenant's entries. */
export const alsoInOperatorLog = (param = "tenantId"): MiddlewareHandler<AppEnv> =>
  async function operatorLogMiddleware(c, next) {
    await next();
    const tenantId = c.req.param(param);
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.res.status >= 300 || !tenantId) return;
    await copyToOperatorLog(c.env, tenantId, c.get("requestId"));
  };

/** A router for `/admin/tenants`, its routes under `/{tenantId}/<segment>` behind the operator's gate. */
export function tenantScopedRouter(segment: string) {
  const app = createRouter();
  // One pattern: a trailing `/*` also matches the bare path, and the body must be read once.
  app.use(`/:tenantId/${segment}/*`, requireAdmin(), readBody(), alsoInOperatorLog());
  return app;
}
