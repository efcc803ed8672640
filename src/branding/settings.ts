import type { AuditActor } from "../db/audit";
import { auditStatement } from "../db/audit";
import { deleteBrandingRow, getBrandingRow, putBrandingRow } from "../db/branding";
import { createDb, runBatch } from "../db/client";
import { toBase64 } from "../lib/crypto";
import { ValidationError } from "../lib/errors";
import { type Brand, brandOf, DEFAULT_BRAND, forgetBrand } from "./brand";
import { parseLogoDataUrl } from "./logo";

/** The operator's brand as given (shape already checked); absent fields take their defaults. */
export type BrandingInput = {
  productName: string;
  headerPrefix?: string | null;
  userAgent?: string | null;
  problemTypeBase?: string | null;
  accentColor?: string | null;
  logo?: string | null;
  supportUrl?: string | null;
  docsUrl?: string | null;
};

/**
 * Replaces the brand (fields left out go back to their defaults): the logo
 * is checked by its bytes (422 naming `logo`). Audited as `branding.updated`
 * in the operator's log with the fields that changed and the logo's type and
 * size, never its bytes. Applies at once in this isolate.
 */
export async function setBranding(env: { DB: D1Database }, who: AuditActor, input: BrandingInput): Promise<Brand> {
  let logo: { type: string; base64: string; size: number } | null = null;
  if (input.logo) {
    const checked = parseLogoDataUrl(input.logo);
    if (!checked.ok) throw new ValidationError([{ path: "logo", message: checked.message }]);
    logo = { type: checked.logo.type, base64: toBase64(checked.logo.bytes), size: checked.logo.bytes.length };
  }
  const db = createDb(env.DB);
  const before = await getBrandingRow(db);
  const row = {
    productName: input.productName,
    headerPrefix: input.headerPrefix ?? null,
    userAgent: input.userAgent ?? null,
    problemTypeBase: input.problemTypeBase ?? null,
    accentColor: input.accentColor ?? null,
    logoType: logo?.type ?? null,
    logoBase64: logo?.base64 ?? null,
    supportUrl: input.supportUrl ?? null,
    docsUrl: input.docsUrl ?? null,
    updatedAt: new Date(),
  };
  const fields = ["productName", "headerPrefix", "userAgent", "problemTypeBase", "accentColor", "supportUrl", "docsUrl"] as const;
  const changed: string[] = fields.filter((f) => (before?.[f] ?? null) !== row[f]);
  if ((before?.logoBase64 ?? null) !== row.logoBase64) changed.push("logo");
  await runBatch(db, [
    putBrandingRow(db, row),
    auditStatement(db, who, {
      action: "branding.updated",
      target: "branding",
      details: {
        changed,
        productName: row.productName,
        headerPrefix: row.headerPrefix,
        logo: logo ? { type: logo.type, bytes: logo.size } : null,
      },
    }),
  ]);
  forgetBrand();
  return brandOf({ id: "default", ...row });
}

/** Back to every default (Hookgate's own name, `X-Webhook-*`); audited as `branding.updated` with `reset: true`. */
export async function resetBranding(env: { DB: D1Database }, who: AuditActor): Promise<Brand> {
  const db = createDb(env.DB);
  await runBatch(db, [
    deleteBrandingRow(db),
    auditStatement(db, who, { action: "branding.updated", target: "branding", details: { reset: true } }),
  ]);
  forgetBrand();
  return DEFAULT_BRAND;
}
