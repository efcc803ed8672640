import { DEFAULT_HEADER_PREFIX, DEFAULT_PROBLEM_TYPE_BASE, DEFAULT_PRODUCT_NAME, type LogoType } from "../common/branding";
import { type BrandingRow, getBrandingRow } from "../db/branding";
import { createDb } from "../db/client";
import { DEFAULT_DELIVERY_BRAND, type DeliveryBrand } from "../delivery/http/request";
import { fromStrictBase64, sha256Hex } from "../lib/crypto";
import { TtlCache } from "../lib/ttl-cache";
import { accessibleAccent } from "./contrast";

/** The brand in force: every field resolved (a default where the operator set none). */
export type Brand = {
  /** False while the operator has set nothing: every default applies. */
  custom: boolean;
  productName: string;
  headerPrefix: string;
  userAgent: string;
  problemTypeBase: string;
  /** As the operator gave it; `accent` is what the pages use. */
  accentColor: string | null;
  accent: { color: string; text: string } | null;
  logo: { type: LogoType; bytes: Uint8Array; base64: string; etag: string } | null;
  supportUrl: string | null;
  docsUrl: string | null;
  updatedAt: Date | null;
};

export const DEFAULT_USER_AGENT = DEFAULT_DELIVERY_BRAND.userAgent;

export const DEFAULT_BRAND: Brand = {
  custom: false,
  productName: DEFAULT_PRODUCT_NAME,
  headerPrefix: DEFAULT_HEADER_PREFIX,
  userAgent: DEFAULT_USER_AGENT,
  problemTypeBase: DEFAULT_PROBLEM_TYPE_BASE,
  accentColor: null,
  accent: null,
  logo: null,
  supportUrl: null,
  docsUrl: null,
  updatedAt: null,
};

/**
 * Deliveries, problem documents and pages all read the brand, so each
 * isolate keeps it for at most BRAND_TTL_MS: one D1 read per isolate every
 * few seconds, none per request. The isolate that changes it forgets its
 * copy at once (its next delivery carries the new headers); other isolates
 * follow within the TTL.
 */
export const BRAND_TTL_MS = 5_000;
const cache = new TtlCache<Brand>(BRAND_TTL_MS, 1);

export async function currentBrand(d1: D1Database): Promise<Brand> {
  let brand = cache.get("brand");
  if (!brand) {
    const row = await getBrandingRow(createDb(d1));
    brand = row ? await brandOf(row) : DEFAULT_BRAND;
    cache.set("brand", brand);
  }
  return brand;
}

/** The brand, or the defaults when storage cannot answer (an error page must still render). */
export async function brandOrDefault(d1: D1Database): Promise<Brand> {
  try {
    return await currentBrand(d1);
  } catch {
    return DEFAULT_BRAND;
  }
}

export const deliveryBrand = (b: Brand): DeliveryBrand => ({ headerPrefix: b.headerPrefix, userAgent: b.userAgent });

export function forgetBrand(): void {
  cache.delete("brand");
}

export async function brandOf(row: BrandingRow): Promise<Brand> {
  const bytes = row.logoBase64 ? fromStrictBase64(row.logoBase64) : null;
  const logo =
    bytes && row.logoType && row.logoBase64
      ? { type: row.logoType as LogoType, bytes, base64: row.logoBase64, etag: `"${(await sha256Hex(row.logoBase64)).slice(0, 16)}"` }
      : null;
  const accent = row.accentColor ? accessibleAccent(row.accentColor) : null;
  return {
    custom: true,
    productName: row.productName,
    headerPrefix: row.headerPrefix ?? DEFAULT_HEADER_PREFIX,
    userAgent: row.userAgent ?? DEFAULT_USER_AGENT,
    problemTypeBase: row.problemTypeBase ?? DEFAULT_PROBLEM_TYPE_BASE,
    accentColor: row.accentColor,
    accent: accent ? { color: accent.accent, text: accent.text } : null,
    logo,
    supportUrl: row.supportUrl,
    docsUrl: row.docsUrl,
    updatedAt: row.updatedAt,
  };
}
