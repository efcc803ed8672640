import type { Context, MiddlewareHandler } from "hono";
import { accessOperator } from "../auth/access";
import { type Admission, admit, identify, type TenantLimitMode } from "../auth/authenticate";
import { clientIp, extractCredential } from "../auth/credentials";
import { identifyOperatorSession, isOperatorSessionToken } from "../auth/operator-sessions";
import type { Identified } from "../auth/principal";
import { requiredScope, type ScopeResource } from "../common/scopes";
import { constantTimeEqual } from "../lib/crypto";
import { AuthenticationError } from "../lib/errors";
import type { Bucket } from "../ratelimit/gate-types";
import { bucketFor, rateLimitHeaders } from "../ratelimit/limits";
import { type AppEnv, observedCredential } from "./context";

/**
 * Tenant routes: verifies the credential, the scope `resource` needs for
 * this method (none for `null`), its live state and its rate limit, in
 * the documented order, before the body is read. Sets `principal` and, on the
 * way out, the rate-limit headers.
 *
 * For a read (GET/HEAD) the handler runs while the credential's Durable
 * Object decides, since a read has nothing to undo: its D1 read and the
 * gate's call overlap, and its answer leaves only once the gate has
 * admitted the request (a refusal replaces it).
 */
export const requireCredential = (resource: ScopeResource | null): MiddlewareHandler<AppEnv> =>
  async function credentialMiddleware(c, next) {
    const need = { scope: resource === null ? null : requiredScope(resource, c.req.method), bucket: bucketFor(c.req.method) };
    const identified = await identifyRequest(c, { sessions: true });
    c.set("principal", identified.principal);
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const gate = admit(c.env, identified, need);
      // Awaited below, after the handler; until then a refusal must not count as unhandled.
      gate.catch(() => {});
      await next();
      setRateLimitHeaders(c.res.headers, await gate);
      return;
    }
    const admission = await admit(c.env, identified, need);
    await next();
    setRateLimitHeaders(c.res.headers, admission);
  };

/** The request's credential, identified without storage where the isolate knows it (format, checksum, record). */
async function identifyRequest(c: Context<AppEnv>, opts: { sessions?: boolean; limitMode?: boolean }): Promise<Identified> {
  const presented = extractCredential(c.req.raw.headers);
  if (presented === undefined) {
    throw new AuthenticationError("unauthorized", "Send a credential in Authorization: Bearer <credential> or X-Api-Key: <key>");
  }
  // The gateway's hot path reads its records again ahead of time; Hookgate's own API keeps plain expiry.
  const background = opts.limitMode ? backgroundOf(c).background : undefined;
  const identified = await identify(c.env, c.get("config"), presented, clientIp(c.req.raw.headers), {
    sessions: opts.sessions,
    background,
  });
  c.set("credential", observedCredential(identified.principal));
  return identified;
}

/** The credential of this request, admitted for `need`; throws the first refusal. */
export async function authenticateRequest(
  c: Context<AppEnv>,
  need: { scope: string | null; bucket: Bucket; cost?: number; productScopes?: readonly string[] },
  /**
   * `sessions`: a dashboard session token is accepted too (Hookgate's own /v1 API).
   * `limitMode`: the tenant's limit mode applies (the gateway).
   */
  opts: { sessions?: boolean; limitMode?: boolean } = {},
): Promise<Admission> {
  return admit(c.env, await identifyRequest(c, opts), need, opts.limitMode ? backgroundOf(c) : undefined);
}

/** The approximate limit mode's background work runs after the response, in this request's lifetime. */
export const backgroundOf = (c: Context<AppEnv>): TenantLimitMode => ({ background: (work) => c.executionCtx.waitUntil(work) });

export function setRateLimitHeaders(headers: Headers, a: Admission): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(a.bucket, a.window, a.gate))) headers.set(name, value);
}

/**
 * Operator routes: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time, or, where
 * Cloudflare Access is configured and no Authorization is sent, a `Cf-Access-Jwt-Assertion` naming
 * a member of staff (the audit actor becomes `operator:<email>`).
 */
export const requireAdmin = (): MiddlewareHandler<AppEnv> =>
  async function adminMiddleware(c, next) {
    const authorization = c.req.header("authorization");
    const assertion = c.req.header("cf-access-jwt-assertion");
    const access = c.get("config").access;
    if (authorization === undefined && assertion !== undefined && access) {
      c.set("operator", await accessOperator(access, assertion));
      await next();
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match) throw new AuthenticationError("unauthorized", "Send the operator token in Authorization: Bearer <ADMIN_TOKEN>");
    if (isOperatorSessionToken(match[1]!)) {
      const session = await identifyOperatorSession(c.env, c.get("config"), match[1]!);
      c.set("operator", session.actor);
      c.set("operatorSession", session.sessionId);
      await next();
      return;
    }
    if (!(await constantTimeEqual(match[1]!, c.get("config").adminToken))) {
      throw new AuthenticationError("invalid_credential", "The operator token is not valid");
    }
    c.set("operator", "operator");
    await next();
  };
