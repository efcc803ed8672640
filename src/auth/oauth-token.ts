import { ALL_SCOPES, missingScopes } from "../common/scopes";
import type { Config } from "../config";
import { createDb } from "../db/client";
import { findClient } from "../db/oauth-clients";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { OAuthError } from "../lib/errors";
import { credentialGate } from "../objects";
import { productScopeNames } from "../operator/scopes";
import type { GateResult } from "../ratelimit/gate-types";
import { DEFAULT_LIMITS, RateLimitedError } from "../ratelimit/limits";
import { cachedTenant } from "../tenants/cache";
import { clientPolicy } from "./oauth-clients";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "./tokens";

export type TokenRequest = {
  /** The raw form body. */
  body: string;
  contentType: string | undefined;
  authorization: string | undefined;
  ip: string | null;
};

export type TokenGrant = {
  response: { access_token: string; token_type: "Bearer"; expires_in: number; scope: string };
  gate: GateResult;
};

export const TOKEN_WINDOW = DEFAULT_LIMITS.token;

/**
 * The client credentials grant (RFC 6749 §4.4). The client's token bucket is
 * spent before its secret is checked: that is the brute-force guard.
 */
export async function grantClientCredentials(env: Env, config: Config, req: TokenRequest): Promise<TokenGrant> {
  const form = parseForm(req);
  const grant = form.get("grant_type");
  if (!grant) throw new OAuthError("invalid_request", "grant_type is required");
  if (grant !== "client_credentials") throw new OAuthError("unsupported_grant_type", "Only the client_credentials grant is supported");
  const creds = clientCredentials(req.authorization, form);
  const client = creds.id.startsWith("cli_") ? await findClient(createDb(env.DB), creds.id) : undefined;
  if (!client) throw new OAuthError("invalid_client", "Client authentication failed");

  const gate = await credentialGate(env, client.id).check({
    credentialId: client.id,
    tenantId: client.tenantId,
    bucket: "token",
    window: TOKEN_WINDOW,
    policy: clientPolicy(client),
    storePolicy: true,
    countUse: false,
    ip: req.ip,
  });
  if (gate.verdict === "rate_limited") throw new RateLimitedError("token", TOKEN_WINDOW, gate, "token requests for this client");
  if (!(await constantTimeEqual(await sha256Hex(creds.secret), client.secretHash))) {
    throw new OAuthError("invalid_client", "Client authentication failed");
  }
  if (gate.verdict === "revoked" || gate.verdict === "unknown") throw new OAuthError("invalid_client", "Client authentication failed");
  if (gate.verdict === "expired") throw new OAuthError("invalid_client", "The client has expired");
  if (gate.verdict === "ip_not_allowed") {
    throw new OAuthError("unauthorized_client", "Token requests from this address are not allowed for this client");
  }
  const tenant = await cachedTenant(env.DB, client.tenantId);
  if (!tenant?.apiAccess) throw new OAuthError("unauthorized_client", "API access is disabled for this account");

  const requested = (form.get("scope") ?? "").split(" ").filter(Boolean);
  const productScopes = await productScopeNames(env.DB);
  const known = new Set<string>([...ALL_SCOPES, ...productScopes]);
  const unknown = requested.filter((s) => !known.has(s));
  if (unknown.length > 0) throw new OAuthError("invalid_scope", `Unknown scope: ${unknown.join(", ")}`);
  if (missingScopes(client.scopes, requested, productScopes).length > 0) {
    throw new OAuthError("invalid_scope", "The requested scope exceeds the scopes granted to the client");
  }
  const scopes = requested.length > 0 ? requested : client.scopes;
  const { token } = await signAccessToken(config.tokenSigningKey, {
    clientId: client.id,
    tenantId: client.tenantId,
    scopes,
    mode: client.mode,
  });
  return {
    response: { access_token: token, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: scopes.join(" ") },
    gate,
  };
}

/** The form, refusing a parameter sent twice (RFC 6749 §3.2). */
function parseForm(req: TokenRequest): Map<string, string> {
  const type = (req.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded");
  }
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(req.body)) {
    if (out.has(k)) throw new OAuthError("invalid_request", `Parameter ${k} was sent more than once`);
    out.set(k, v);
  }
  return out;
}

/** Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the body, never both. */
function clientCredentials(auth: string | undefined, form: Map<string, string>): { id: string; secret: string } {
  const inBody = form.has("client_id") || form.has("client_secret");
  if (auth) {
    if (inBody) throw new OAuthError("invalid_request", "Use one client authentication method, not both");
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
    if (!match) throw new OAuthError("invalid_client", "Unsupported client authentication");
    try {
      const decoded = atob(match[1]!);
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new Error("no colon");
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
