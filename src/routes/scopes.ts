import { createRoute, z } from "@hono/zod-openapi";
import { requireCredential } from "../http/authenticate";
import { createRouter, errorResponses, jsonResponse, tenantSecurity } from "../http/openapi";
import { grantableScopes } from "../operator/scopes";

export const ListedScopeSchema = z
  .object({
    name: z.string().openapi({ example: "tests:read" }),
    description: z.string().nullable(),
    owner: z.enum(["hookgate", "operator"]),
  })
  .openapi("ListedScope");

export const ScopeListSchema = z.object({ data: z.array(ListedScopeSchema), nextCursor: z.null() }).openapi("ScopeList");

const listScopesRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["API keys"],
  summary: "Every scope a key or OAuth client can be granted: Hookgate's and the product's",
  description: "Any valid credential may read it. Unpaginated (`nextCursor` is always null).",
  security: tenantSecurity,
  responses: { 200: jsonResponse(ScopeListSchema, "The scopes"), ...errorResponses },
});

export function scopesRoutes() {
  const app = createRouter();
  app.use("*", requireCredential(null));
  app.openapi(listScopesRoute, async (c) => c.json({ data: await grantableScopes(c.env.DB), nextCursor: null }, 200));
  return app;
}
