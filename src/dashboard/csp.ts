/**
 * The security headers of the dashboard and /docs. The dashboard's page
 * runs only its own scripts and styles (no inline code of any kind), talks
 * only to its own origin, and may be framed only by the tenant's
 * `portalOrigins` (none: not at all).
 */
export function dashboardHeaders(frameAncestors: readonly string[]): Record<string, string> {
  const ancestors = frameAncestors.length > 0 ? frameAncestors.join(" ") : "'none'";
  const headers: Record<string, string> = {
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "form-action 'none'",
      "base-uri 'none'",
      `frame-ancestors ${ancestors}`,
    ].join("; "),
    ...COMMON,
  };
  // Older browsers know only X-Frame-Options, which cannot list origins: sent when framing is refused.
  if (frameAncestors.length === 0) headers["x-frame-options"] = "DENY";
  return headers;
}

/** /docs: Swagger UI sets inline styles (never inline script); it is not meant to be framed. */
export function docsHeaders(): Record<string, string> {
  return {
    "content-security-policy": [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self' data:",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-frame-options": "DENY",
    ...COMMON,
  };
}

const COMMON = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
};
