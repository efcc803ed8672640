import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { cachedTenant } from "../auth/authenticate";
import { clientIp } from "../auth/credentials";
import { clientPolicy } from "../auth/oauth-clients";
import { ALL_SCOPES, missingScopes } from "../auth/scopes";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "../auth/tokens";
import { createDb } from "../db/client";
import { findClient } from "../db/oauth-clients";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/context";
import { readBody } from "../http/middleware";
import { createRouter, jsonResponse } from "../http/openapi";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { credentialGate } from "../ratelimit/credential-limiter";
import { DEFAULT_LIMITS, policyName, rateLimitHeaders } from "../ratelimit/limits";

/** RFC 6749 §5.2 error codes and their statuses. */
type OAuthErrorCode = "invalid_request" | "invalid_client" | "invalid_grant" | "unauthorized_client" | "unsupported_grant_type" | "invalid_scope";

class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

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

function oauthErrorResponse(c: Context<AppEnv>, err: OAuthError): Response {
  const status = err.error === "invalid_client" ? 401 : 400;
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store" };
  if (status === 401) headers["www-authenticate"] = 'Basic realm="hookgate"';
  return new Response(JSON.stringify({ error: err.error, error_description: err.description, requestId: c.get("requestId") }), {
    status,
    headers,
  });
}

/** Reads a form body, refusing a parameter sent twice (RFC 6749 §3.2). */
async function readForm(c: Context<AppEnv>): Promise<Map<string, string>> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded");
  }
  const params = new URLSearchParams(await c.req.text());
  const out = new Map<string, string>();
  for (const [k, v] of params) {
    if (out.has(k)) throw new OAuthError("invalid_request", `Parameter ${k} was sent more than once`);
    out.set(k, v);
  }
  return out;
}

/** Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the body, never both. */
function clientCredentials(c: Context<AppEnv>, form: Map<string, string>): { id: string; secret: string } {
  const auth = c.req.header("authorization");
  const inBody = form.has("client_id") || form.has("client_secret");
  if (auth) {
    if (inBody) throw new OAuthError("invalid_request", "Use one client authentication method, not both");
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
    if (!match) throw new OAuthError("invalid_client", "Unsupported client authentication");
    let decoded: string;
    try {
      decoded = atob(match[1]!);
    } catch {
      throw new OAuthError("invalid_client", "Malformed Basic credentials");
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OAuthError("invalid_client", "Malformed Basic credentials");
    try {
      return {
        id: decodeURIComponent(decoded.slice(0, colon).replaceAll("+", " ")),
        secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll("+", " ")),
      };
    } catch {
      throw new OAuthError("invalid_client", "Malformed Basic credentials");
    }
  }
  const id = form.get("client_id");
  const secret = form.get("client_secret");
  if (!id || !secret) throw new OAuthError("invalid_client", "Client authentication is required");
  return { id, secret };
}

export function oauthTokenRoutes() {
  const app = createRouter();
  app.openAPIRegistry.registerComponent("securitySchemes", "clientBasic", { type: "http", scheme: "basic" });
  app.use("/token", readBody("any"));

  // Documented from the schema, but parsed by hand: errors must be RFC 6749's, not the API's 422.
  app.openAPIRegistry.registerPath(tokenRoute);
  app.post("/token", async (c) => {
      try {
        const form = await readForm(c);
        const grant = form.get("grant_type");
        if (!grant) throw new OAuthError("invalid_request", "grant_type is required");
        if (grant !== "client_credentials") {
          throw new OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported");
        }
        const creds = clientCredentials(c, form);
        const client = creds.id.startsWith("cli_") ? await findClient(createDb(c.env.DB), creds.id) : undefined;
        if (!client) throw new OAuthError("invalid_client", "Client authentication failed");

        // Counted before the secret is checked: this is the brute-force guard.
        const window = DEFAULT_LIMITS.token;
        const gate = await credentialGate(c.env, client.id).check({
          credentialId: client.id,
          bucket: "token",
          window,
          policy: clientPolicy(client),
          storePolicy: true,
          countUse: false,
          ip: clientIp(c.req.raw.headers),
        });
        if (gate.verdict === "rate_limited") {
          throw new ApiError(
            "rate_limited",
            `Too many token requests for this client; retry in ${gate.slotSeconds} s`,
            { policy: policyName("token", window), retryAfter: gate.slotSeconds },
            { ...rateLimitHeaders("token", window, gate), "Retry-After": String(gate.slotSeconds) },
          );
        }
        if (!(await constantTimeEqual(await sha256Hex(creds.secret), client.secretHash))) {
          throw new OAuthError("invalid_client", "Client authentication failed");
        }
        if (gate.verdict === "revoked" || gate.verdict === "unknown") {
          throw new OAuthError("invalid_client", "Client authentication failed");
        }
        if (gate.verdict === "expired") throw new OAuthError("invalid_client", "The client has expired");
        if (gate.verdict === "ip_not_allowed") {
          throw new OAuthError("unauthorized_client", "Token requests from this address are not allowed for this client");
        }
        const tenant = await cachedTenant(c.env, client.tenantId);
        if (!tenant?.apiAccess) throw new OAuthError("unauthorized_client", "API access is disabled for this account");

        const requested = (form.get("scope") ?? "").split(" ").filter(Boolean);
        const unknown = requested.filter((s) => !(ALL_SCOPES as readonly string[]).includes(s));
        if (unknown.length > 0) throw new OAuthError("invalid_scope", `Unknown scope: ${unknown.join(", ")}`);
        if (missingScopes(client.scopes, requested).length > 0) {
          throw new OAuthError("invalid_scope", "The requested scope exceeds the scopes granted to the client");
        }
        const scopes = requested.length > 0 ? requested : client.scopes;
        const { token } = await signAccessToken(c.get("config").tokenSigningKey, {
          clientId: client.id,
          tenantId: client.tenantId,
          scopes,
        });
        c.header("Cache-Control", "no-store");
        c.header("Pragma", "no-cache");
        for (const [k, v] of Object.entries(rateLimitHeaders("token", window, gate))) c.header(k, v);
        return c.json(
          { access_token: token, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: scopes.join(" ") },
          200,
        );
      } catch (err) {
        if (err instanceof OAuthError) return oauthErrorResponse(c, err);
        throw err;
      }
  });
  return app;
}
