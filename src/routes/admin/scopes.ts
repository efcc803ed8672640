import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../../http/authenticate";
import { operatorActor } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, jsonBody, jsonResponse } from "../../http/openapi";
import { MAX_PRODUCT_SCOPES, type ProductScope, productScopes, SCOPE_NAME, setProductScopes } from "../../operator/scopes";

const ProductScopeSchema = z
  .object({
    name: z
      .string()
      .max(100)
      .regex(SCOPE_NAME, "must look like resource:action, lowercase (e.g. tests:read)")
      .openapi({ example: "tests:read" }),
    description: z.string().max(500).nullable().optional(),
  })
  .strict()
  .openapi("ProductScope");

const PutScopesBody = z
  .strictObject({ scopes: z.array(ProductScopeSchema).max(MAX_PRODUCT_SCOPES, `may hold at most ${MAX_PRODUCT_SCOPES} scopes`) })
  .openapi("PutProductScopes");

const ProductScopeListSchema = z
  .object({
    data: z.array(z.object({ name: z.string(), description: z.string().nullable(), owner: z.literal("operator") })),
    nextCursor: z.null(),
  })
  .openapi("ProductScopeList");

const tags = ["Operator"];

const putScopesRoute = createRoute({
  method: "put",
  path: "/",
  tags,
  summary: "Replace the product's scopes (the whole list)",
  description:
    "Keys and OAuth clients may be granted any listed scope; `api:read`/`api:write` cover them. A scope removed from the list stops granting access at once (within a second in every isolate) and can no longer be granted.",
  security: adminSecurity,
  request: jsonBody(PutScopesBody),
  responses: { 200: jsonResponse(ProductScopeListSchema, "The list now in force"), ...errorResponses },
});

const getScopesRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The product's scopes",
  security: adminSecurity,
  responses: { 200: jsonResponse(ProductScopeListSchema, "The list"), ...errorResponses },
});

const serialize = (scopes: ProductScope[]) => ({
  data: scopes.map((s) => ({ name: s.name, description: s.description, owner: "operator" as const })),
  nextCursor: null,
});

/** The operator's product scopes: `/admin/scopes`. */
export function adminScopesRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  app.openapi(putScopesRoute, async (c) => {
    const body = c.req.valid("json");
    const scopes = body.scopes.map((s) => ({ name: s.name, description: s.description ?? null }));
    return c.json(serialize(await setProductScopes(c.env, operatorActor(c), scopes)), 200);
  });
  app.openapi(getScopesRoute, async (c) => c.json(serialize(await productScopes(c.env.DB)), 200));
  return app;
}
