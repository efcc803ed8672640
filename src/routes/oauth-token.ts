import { createRoute, z } from "@hono/zod-openapi";
import { clientIp } from "../auth/credentials";
import { grantClientCredentials, TOKEN_WINDOW } from "../auth/oauth-token";
import { readBody } from "../http/middleware";
import { createRouter, jsonResponse } from "../http/openapi";
import { rateLimitHeaders } from "../ratelimit/limits";

const TokenRequest = z
  .object({
    grant_type: z.string().openapi({ example: "client_credentials" }),
    scope: z.string().optional().openapi({ description: "Space-delimited subset of the client's scopes" }),
    client_id: z.string().optional().openapi({ description: "If not sent with HTTP Basic" }),
    client_secret: z.string().optional(),
  })
  .openapi("TokenRequest");

const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    scope: z.string(),
  })
  .openapi("TokenResponse");

const OAuthErrorBody = z
  .object({ error: z.string(), error_description: z.string() })
  .openapi("OAuthError", { description: "RFC 6749 §5.2 error" });

const tokenRoute = createRoute({
  method: "post",
  path: "/token",
  tags: ["OAuth clients"],
  summary: "Issue an access token (client credentials grant, RFC 6749 §4.4)",
  description: "Client authentication by HTTP Basic or by `client_id`/`client_secret` in the form body.",
  security: [{ clientBasic: [] }, {}],
  request: { body: { content: { "application/x-www-form-urlencoded": { schema: TokenRequest } }, required: true } },
  responses: {
    200: jsonResponse(TokenResponse, "An access token, valid for an hour"),
    400: jsonResponse(OAuthErrorBody, "invalid_request, invalid_scope, unsupported_grant_type or unauthorized_client"),
    401: jsonResponse(OAuthErrorBody, "invalid_client"),
    429: { description: "Too many token requests for this client (problem+json)" },
  },
});

export function oauthTokenRoutes() {
  const app = createRouter();
  app.openAPIRegistry.registerComponent("securitySchemes", "clientBasic", { type: "http", scheme: "basic" });
  app.use("/token", readBody("raw"));

  // Documented from the schema, but parsed by the grant itself: its errors are RFC 6749's, not the API's 422.
  app.openAPIRegistry.registerPath(tokenRoute);
  app.post("/token", async (c) => {
    const { response, gate } = await grantClientCredentials(c.env, c.get("config"), {
      body: await c.req.text(),
      contentType: c.req.header("content-type"),
      authorization: c.req.header("authorization"),
      ip: clientIp(c.req.raw.headers),
    });
    return c.json(response, 200, {
      "Cache-Control": "no-store",
      Pragma: "no-cache",
      ...rateLimitHeaders("token", TOKEN_WINDOW, gate),
    });
  });
  return app;
}
