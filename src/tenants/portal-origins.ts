import { type FieldError, ValidationError } from "../lib/errors";

/** At most this many origins may embed a tenant's portal. */
export const MAX_PORTAL_ORIGINS = 20;

/**
 * The origin `s` names (`scheme://host[:port]`, lowercased, default port
 * dropped), or null when it is not exactly an http(s) origin: no path,
 * query, fragment, credentials or wildcard.
 */
export function parseOrigin(s: string): { origin: string; secure: boolean } | null {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password || url.search || url.hash || s.includes("*")) return null;
  // `new URL` adds a "/" path to a bare origin; anything longer is a path.
  const bare = (s.endsWith("/") ? s.slice(0, -1) : s).toLowerCase();
  const withDefaultPort = `${url.protocol}//${url.hostname}:${url.protocol === "https:" ? 443 : 80}`;
  if (bare !== url.origin && bare !== withDefaultPort) return null;
  return { origin: url.origin, secure: url.protocol === "https:" };
}

/**
 * The origins that may frame the tenant's portal (CSP `frame-ancestors`),
 * normalized; 422 names each one that is not an https origin (http too
 * where insecure URLs are allowed, for local development).
 */
export function normalizePortalOrigins(origins: readonly string[], allowInsecure: boolean): string[] {
  const errors: FieldError[] = [];
  const out: string[] = [];
  origins.forEach((raw, i) => {
    const parsed = parseOrigin(raw);
    if (!parsed) {
      errors.push({
        path: `portalOrigins.${i}`,
        message: "must be an origin such as https://app.example.com (scheme, host and port only)",
      });
    } else if (!parsed.secure && !allowInsecure) {
      errors.push({ path: `portalOrigins.${i}`, message: "must be an https:// origin" });
    } else if (!out.includes(parsed.origin)) {
      out.push(parsed.origin);
    }
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return out;
}
