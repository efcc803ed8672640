import { createRoute, z } from "@hono/zod-openapi";
import { type GatewayConfig, gatewayConfig, setGatewayConfig } from "../../gateway/config";
import { GATEWAY_METHODS } from "../../gateway/routes";
import { requireAdmin } from "../../http/authenticate";
import { operatorActor } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, jsonBody, jsonResponse } from "../../http/openapi";
import { DomainError } from "../../lib/errors";

/** A hostname; a fully qualified one's trailing dot is allowed (and dropped when stored). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+\.?$/i;

const GatewayRouteSchema = z
  .strictObject({
    method: z
      .enum(["*", ...GATEWAY_METHODS])
      .optional()
      .openapi({ description: 'One method, or "*" (default) for any' }),
    path: z
      .string()
      .max(512)
      .regex(/^\/[^?#*]*$|^(\/[^?#*]*)?\/\*$/, "must start with / and may end in /* (a prefix); no query, no other *")
      .openapi({ example: "/v1/tests/*" }),
    scope: z.string().max(100).nullable().optional().openapi({ description: "The scope a credential needs; absent: any valid credential" }),
    cost: z.number().int().min(1).max(1000).optional().openapi({ description: "Slots spent from the credential's rate limit (default 1)" }),
  })
  .openapi("GatewayRoute");

const PutGatewayBody = z
  .strictObject({
    origin: z.string().max(2048).openapi({ example: "https://api.example.com" }),
    hosts: z
      .array(z.string().max(253).regex(HOSTNAME, "must be a hostname such as api.example.com"))
      .max(20)
      .optional()
      .openapi({ description: "Hostnames given whole to the gateway (every path, Hookgate's own included)" }),
    routes: z.array(GatewayRouteSchema).max(200, "may hold at most 200 routes"),
  })
  .openapi("PutGateway");

const GatewaySchema = z
  .object({
    origin: z.string(),
    hosts: z.array(z.string()),
    routes: z.array(z.object({ method: z.string(), path: z.string(), scope: z.string().nullable(), cost: z.number().int() })),
    updatedAt: z.string(),
  })
  .openapi("Gateway");

const serialize = (g: GatewayConfig) => ({ origin: g.origin, hosts: g.hosts, routes: g.routes, updatedAt: g.updatedAt.toISOString() });

const tags = ["Operator"];

const putGatewayRoute = createRoute({
  method: "put",
  path: "/",
  tags,
  summary: "Configure the edge gateway in front of your API",
  description:
    "A request to a path outside Hookgate's own that matches a route, or any request to one of `hosts`, is authenticated with the tenant's key or OAuth token, scope-checked, rate-limited (`cost`), then proxied to `origin` with signed identity headers (X-Hookgate-*).",
  security: adminSecurity,
  request: jsonBody(PutGatewayBody),
  responses: { 200: jsonResponse(GatewaySchema, "The configuration now in force"), ...errorResponses },
});

const getGatewayRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The edge gateway's configuration",
  security: adminSecurity,
  responses: { 200: jsonResponse(GatewaySchema, "The configuration"), ...errorResponses },
});

/** The edge gateway's configuration: `/admin/gateway`. */
export function adminGatewayRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  app.openapi(putGatewayRoute, async (c) => {
    const config = await setGatewayConfig(c.env, c.get("config").allowInsecureUrls, operatorActor(c), c.req.valid("json"));
    return c.json(serialize(config), 200);
  });
  app.openapi(getGatewayRoute, async (c) => {
    const config = await gatewayConfig(c.env.DB);
    if (!config) throw new DomainError("not_found", "The gateway is not configured yet; PUT /admin/gateway first");
    return c.json(serialize(config), 200);
  });
  return app;
}
