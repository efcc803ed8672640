import type { MiddlewareHandler } from "hono";
import { grantedScopes } from "../common/scopes";
import { loadConfig } from "../config";
import { gatewayConfig } from "../gateway/config";
import { forwardToOrigin } from "../gateway/proxy";
import { isHookgatePath, matchRoute, normalizeHost } from "../gateway/routes";
import { DomainError } from "../lib/errors";
import { productScopeNames } from "../operator/scopes";
import { bucketFor } from "../ratelimit/limits";
import { authenticateRequest, backgroundOf, setRateLimitHeaders } from "./authenticate";
import type { AppEnv } from "./context";

/**
 * The edge gateway in front of the operator's own API. A request whose Host
 * is one of the gateway's `hosts`, or whose path is outside Hookgate's own
 * and matches a route, is authenticated, scope-checked and rate-limited
 * exactly as Hookgate's API is (the same code path, one Durable Object
 * call), then streamed to the origin. Anything else goes on to Hookgate's
 * routes. A refused request never reaches the origin.
 */
export const gateway = (): MiddlewareHandler<AppEnv> =>
  async function gatewayMiddleware(c, next) {
    const path = c.req.path;
    const own = isHookgatePath(path);
    let config: Awaited<ReturnType<typeof gatewayConfig>>;
    try {
      config = await gatewayConfig(c.env.DB, backgroundOf(c).background);
    } catch (err) {
      // Hookgate's own API (and /health) keeps answering when the gateway's configuration cannot be read.
      if (own) return next();
      throw err;
    }
    if (!config) return next();
    // The URL's hostname has no port; a trailing dot or another case is the same host.
    const onGatewayHost = config.hosts.includes(normalizeHost(new URL(c.req.url).hostname));
    if (own && !onGatewayHost) return next();
    const route = matchRoute(config.routes, c.req.method, path);
    if (!route) {
      if (onGatewayHost) throw new DomainError("not_found", `No API route for ${c.req.method} ${path}`);
      return next();
    }

    c.set("route", `gateway ${route.method} ${route.path}`);
    const loaded = loadConfig(c.env);
    if (!loaded.ok)
      throw new DomainError("misconfigured", "Hookgate is not configured: the operator must set its secrets", { retryAfter: 60 });
    c.set("config", loaded.config);
    const product = await productScopeNames(c.env.DB, backgroundOf(c).background);
    const admission = await authenticateRequest(
      c,
      { scope: route.scope, bucket: bucketFor(c.req.method), cost: route.cost, productScopes: product },
      { limitMode: true },
    );
    const { principal } = admission;
    const requestId = c.get("requestId");
    const res = await forwardToOrigin(
      c.req.raw,
      config.origin,
      {
        tenantId: principal.tenant.id,
        credentialId: principal.credentialId,
        scopes: grantedScopes(principal.scopes, product),
        requestId,
        mode: principal.mode,
      },
      { secret: loaded.config.gatewaySecret, timeoutMs: loaded.config.gatewayTimeoutMs },
    );
    res.headers.set("X-Request-Id", requestId);
    setRateLimitHeaders(res.headers, admission);
    return res;
  };
