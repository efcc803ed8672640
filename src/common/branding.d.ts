/**
 * The operator's brand as every surface uses it: the defaults a deployment
 * that sets nothing keeps, the rules of each field, and the one place that
 * names the branded delivery headers. Dependency-free (src/common/ imports
 * nothing), so the server, the CLI, the verifier and the dashboard share it.
 */
export declare const DEFAULT_PRODUCT_NAME = "Hookgate";
export declare const DEFAULT_HEADER_PREFIX = "Webhook";
export declare const DEFAULT_PROBLEM_TYPE_BASE = "https://hookgate.dev/problems/";
/** `Acme`, `Acme-Hooks`: letters and digits, words joined by single hyphens, starting with a letter. */
export declare const HEADER_PREFIX_PATTERN: RegExp;
export declare const HEADER_PREFIX_MAX = 30;
export declare const PRODUCT_NAME_MAX = 40;
export declare const ACCENT_COLOR_PATTERN: RegExp;
/** Decoded bytes. */
export declare const LOGO_MAX_BYTES: number;
export declare const LOGO_TYPES: readonly ["image/png", "image/jpeg", "image/webp", "image/svg+xml"];
export type LogoType = (typeof LOGO_TYPES)[number];
/** The page title of the dashboard, the portal and /docs. */
export declare const pageTitle: (productName: string) => string;
/**
 * The headers a delivery carries under the operator's prefix (`X-<prefix>-…`),
 * named here once: the request builder, the attempt log's redaction, the
 * reserved-header check and the verifier all take their names from this.
 */
export declare function brandedHeaderNames(prefix?: string): {
    signature: string;
    eventId: string;
    eventType: string;
    attempt: string;
    timestamp: string;
    /** Only to an operator endpoint, which receives many tenants' events. */
    tenantId: string;
    /** The payload version a delivery was rendered in. */
    version: string;
    /** `live` or `test`: the mode of the event's tenant. */
    mode: string;
};
export type BrandedHeaderNames = ReturnType<typeof brandedHeaderNames>;
/** The lower-case start every branded header shares (`x-acme-`): an endpoint's own headers may not use it. */
export declare const brandedHeaderStart: (prefix?: string) => string;
