import { createRoute, z } from "@hono/zod-openapi";
import { requireCredential } from "../http/authenticate";
import { createRouter, errorResponses, jsonResponse, tenantSecurity } from "../http/openapi";
import { ModeSchema, ScopeSchema } from "../http/schemas";

const WhoAmISchema = z
  .object({
    tenantId: z.string(),
    tenant: z.object({ id: z.string(), name: z.string() }).openapi({ description: "The caller's tenant, by id and name" }),
    credentialId: z.string(),
    credentialType: z.enum(["api_key", "oauth_client"]),
    mode: ModeSchema,
    scopes: z.array(ScopeSchema),
  })
  .openapi("WhoAmI");

const whoamiRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["API keys"],
  summary: "The calling credential: its tenant (id and name), id, kind, mode and scopes",
  description: "Needs no particular scope; useful to check a key or token works. Counts against the read limit.",
  security: tenantSecurity,
  responses: { 200: jsonResponse(WhoAmISchema, "The caller"), ...errorResponses },
});

export function whoamiRoutes() {
  const app = createRouter();
  app.use("*", requireCredential(null));
  app.openapi(whoamiRoute, (c) => {
    const p = c.get("principal");
    return c.json(
      {
        tenantId: p.tenant.id,
        tenant: { id: p.tenant.id, name: p.tenant.name },
        credentialId: p.credentialId,
        credentialType: p.credentialType,
        mode: p.mode,
        scopes: p.scopes,
      },
      200,
    );
  });
  return app;
}
