import { createRoute, z } from "@hono/zod-openapi";
import { VERIFY_CODES, verifyCredential } from "../../auth/verify";
import { GATEWAY_METHODS } from "../../gateway/routes";
import { backgroundOf, requireAdmin } from "../../http/authenticate";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, jsonBody, jsonResponse } from "../../http/openapi";

const VerifyBody = z
  .strictObject({
    credential: z.string().max(4096).openapi({ description: "The API key or OAuth access token your API received" }),
    scope: z.string().max(100).optional().openapi({ description: "The scope the request needs; absent: any valid credential" }),
    ip: z.string().max(64).optional().openapi({ description: "The caller's address, for the credential's IP allowlist" }),
    method: z
      .enum(GATEWAY_METHODS)
      .optional()
      .openapi({ description: "GET/HEAD spend the read budget, the others the write budget (default GET)" }),
    cost: z.number().int().min(1).max(1000).optional(),
  })
  .openapi("VerifyCredential");

const VerifyResultSchema = z
  .union([
    z.object({
      valid: z.literal(true),
      tenantId: z.string(),
      credentialId: z.string(),
      type: z.enum(["key", "oauth"]),
      scopes: z.array(z.string()),
      rateLimit: z.object({ policy: z.string(), limit: z.number().int(), remaining: z.number().int(), reset: z.number().int() }),
    }),
    z.object({ valid: z.literal(false), code: z.enum(VERIFY_CODES), retryAfter: z.number().int().optional() }),
  ])
  .openapi("VerifyResult");

const verifyRoute = createRoute({
  method: "post",
  path: "/",
  tags: ["Operator"],
  summary: "Verify a tenant's credential for your own API (when it does not sit behind the gateway)",
  description:
    "The same checks, in the same order, as a gateway request; the first that fails is the `code`. Only a valid answer spends `cost` from the credential's rate limit.",
  security: adminSecurity,
  request: jsonBody(VerifyBody),
  responses: { 200: jsonResponse(VerifyResultSchema, "The verdict"), ...errorResponses },
});

/** `POST /admin/verify`. */
export function adminVerifyRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  app.openapi(verifyRoute, async (c) => c.json(await verifyCredential(c.env, c.get("config"), c.req.valid("json"), backgroundOf(c)), 200));
  return app;
}
