import type { Brand } from "../branding/brand";

export const LOGO_PATH = "/dashboard/brand/logo";
export const THEME_PATH = "/dashboard/brand/theme.css";

/** Changes with every brand change, so the pages' links to the logo and theme never serve a stale copy. */
export const brandAssetVersion = (brand: Brand) => (brand.updatedAt ? brand.updatedAt.getTime().toString(36) : "0");

/**
 * The brand's stylesheet, linked after the page's own: the accent (as
 * computed, text on it keeping 4.5:1) overrides the default one, and the
 * logo and footer get their layout. A stylesheet rather than inline style,
 * so the pages' CSP still allows styles from the Worker alone.
 */
export function themeCss(brand: Brand): string {
  const accent = brand.accent ? `:root{--accent:${brand.accent.color};--accent-fg:${brand.accent.text};}\n` : "";
  return `${accent}${LAYOUT}`;
}

const LAYOUT = `.brand{display:inline-flex;align-items:center;gap:.5rem;}
.brand-logo{display:inline-block;height:1.75rem;width:auto;max-width:8rem;object-fit:contain;vertical-align:middle;}
.brand-bar{display:flex;align-items:center;gap:.5rem;padding:.75rem 1rem;border-bottom:1px solid #d4d4d8;font-weight:600;}
.brand-bar .brand-what{font-weight:400;color:#52525b;}
.brand-footer{display:flex;flex-wrap:wrap;gap:1rem;padding:1rem;border-top:1px solid #d4d4d8;font-size:.875rem;}
.brand-footer a{color:var(--accent,#1d4ed8);}
`;

/**
 * The logo as an image: typed by its bytes, never sniffed, and under a CSP
 * that runs nothing (an SVG opened on its own cannot run a script, load
 * anything or touch the origin: `sandbox`).
 */
export function logoHeaders(brand: Brand): Record<string, string> {
  return {
    "content-type": brand.logo?.type ?? "application/octet-stream",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "x-content-type-options": "nosniff",
    "cache-control": "public, max-age=60",
    "cross-origin-resource-policy": "same-origin",
    ...(brand.logo && { etag: brand.logo.etag }),
  };
}
