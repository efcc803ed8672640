import type { GatewayRoute } from "../db/schema";

/** Hookgate's own paths: a request here is Hookgate's, unless its Host belongs to the gateway. */
export const HOOKGATE_PREFIXES = ["/v1/", "/admin/", "/oauth/", "/in/"] as const;
export const HOOKGATE_PATHS = ["/dashboard", "/docs", "/openapi.json", "/health"] as const;

// Each of them exactly, or anything below it: one test per request.
const HOOKGATE_PATH = new RegExp(
  `^(?:${[...HOOKGATE_PREFIXES.map((p) => p.slice(0, -1)), ...HOOKGATE_PATHS].map((p) => p.replaceAll(".", "\\.")).join("|")})(?:/|$)`,
);

export function isHookgatePath(path: string): boolean {
  return HOOKGATE_PATH.test(path);
}

/**
 * A hostname as the gateway compares it: lowercase, without the trailing
 * dot of a fully qualified name (`API.example.com.` is `api.example.com`),
 * so no spelling of a gateway host reaches Hookgate's own API. Callers pass
 * a hostname, without a port.
 */
export const normalizeHost = (host: string) => host.toLowerCase().replace(/\.+$/, "");

export const GATEWAY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * How specific a route is for a path it matches: an exact path beats any
 * prefix, a longer prefix beats a shorter one, and a route for this method
 * beats one for every method (`*`).
 */
function specificity(route: GatewayRoute): number {
  const exact = !route.path.endsWith("/*");
  const length = exact ? route.path.length : route.path.length - 2;
  return (exact ? 1_000_000 : 0) + length * 2 + (route.method === "*" ? 0 : 1);
}

/** True when `route` covers `method path`. `/tests/*` covers `/tests` and everything below it. */
export function routeMatches(route: GatewayRoute, method: string, path: string): boolean {
  const m = method.toUpperCase();
  if (route.method !== "*" && route.method !== m && !(route.method === "GET" && m === "HEAD")) return false;
  if (!route.path.endsWith("/*")) return route.path === path;
  const base = route.path.slice(0, -2);
  return base === "" || path === base || path.startsWith(`${base}/`);
}

/** The most specific route for `method path`, if any. */
export function matchRoute(routes: readonly GatewayRoute[], method: string, path: string): GatewayRoute | undefined {
  let best: GatewayRoute | undefined;
  for (const route of routes) {
    if (routeMatches(route, method, path) && (!best || specificity(route) > specificity(best))) best = route;
  }
  return best;
}
