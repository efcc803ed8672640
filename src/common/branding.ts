/**
 * The operator's brand as every surface uses it: the defaults a deployment
 * that sets nothing keeps, the rules of each field, and the one place that
 * names the branded delivery headers. Dependency-free (src/common/ imports
 * nothing), so the server, the CLI, the verifier and the dashboard share it.
 */

export const DEFAULT_PRODUCT_NAME = "Hookgate";
export const DEFAULT_HEADER_PREFIX = "Webhook";
export const DEFAULT_PROBLEM_TYPE_BASE = "https://hookgate.dev/problems/";

/** `Acme`, `Acme-Hooks`: letters and digits, words joined by single hyphens, starting with a letter. */
export const HEADER_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$/;
export const HEADER_PREFIX_MAX = 30;
export const PRODUCT_NAME_MAX = 40;
export const ACCENT_COLOR_PATTERN = /^#[0-9A-Fa-f]{6}$/;
/** Decoded bytes. */
export const LOGO_MAX_BYTES = 64 * 1024;
export const LOGO_TYPES = ["image/png", "image/jpeg", "image/webp", "image/svg+xml"] as const;
export type LogoType = (typeof LOGO_TYPES)[number];

/** The page title of the dashboard, the portal and /docs. */
export const pageTitle = (productName: string) => `${productName} — Integrations`;

/**
 * The headers a delivery carries under the operator's prefix (`X-<prefix>-…`),
 * named here once: the request builder, the attempt log's redaction, the
 * reserved-header check and the verifier all take their names from this.
 */
export function brandedHeaderNames(prefix: string = DEFAULT_HEADER_PREFIX) {
  const h = (name: string) => `X-${prefix}-${name}`;
  return {
    signature: h("Signature"),
    eventId: h("Event-Id"),
    eventType: h("Event-Type"),
    attempt: h("Attempt"),
    timestamp: h("Timestamp"),
    /** Only to an operator endpoint, which receives many tenants' events. */
    tenantId: h("Tenant-Id"),
    /** The payload version a delivery was rendered in. */
    version: h("Version"),
    /** `live` or `test`: the mode of the event's tenant. */
    mode: h("Mode"),
  };
}

export type BrandedHeaderNames = ReturnType<typeof brandedHeaderNames>;

/** The lower-case start every branded header shares (`x-acme-`): an endpoint's own headers may not use it. */
export const brandedHeaderStart = (prefix: string = DEFAULT_HEADER_PREFIX) => `x-${prefix.toLowerCase()}-`;
