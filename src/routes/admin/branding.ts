import { createRoute, z } from "@hono/zod-openapi";
import type { Brand } from "../../branding/brand";
import { currentBrand } from "../../branding/brand";
import { resetBranding, setBranding } from "../../branding/settings";
import {
  ACCENT_COLOR_PATTERN,
  DEFAULT_HEADER_PREFIX,
  DEFAULT_PROBLEM_TYPE_BASE,
  HEADER_PREFIX_MAX,
  HEADER_PREFIX_PATTERN,
  LOGO_MAX_BYTES,
  PRODUCT_NAME_MAX,
} from "../../common/branding";
import { requireAdmin } from "../../http/authenticate";
import { operatorActor } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, jsonBody, jsonResponse, toIso } from "../../http/openapi";

const httpsUrl = (what: string) =>
  z
    .string()
    .max(2048, "must be at most 2048 characters")
    .refine((s) => URL.canParse(s) && new URL(s).protocol === "https:" && !new URL(s).username && !new URL(s).password, {
      message: `must be an https URL (${what})`,
    });

const PutBrandingBody = z
  .strictObject({
    productName: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(PRODUCT_NAME_MAX, `must be at most ${PRODUCT_NAME_MAX} characters`)
      .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
      .openapi({ example: "Acme" }),
    headerPrefix: z
      .string()
      .max(HEADER_PREFIX_MAX, `must be at most ${HEADER_PREFIX_MAX} characters`)
      .regex(HEADER_PREFIX_PATTERN, "must be letters and digits, words joined by single hyphens, starting with a letter (e.g. Acme)")
      .nullable()
      .optional()
      .openapi({ description: `Deliveries carry X-<headerPrefix>-* (default ${DEFAULT_HEADER_PREFIX})`, example: "Acme" }),
    userAgent: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(200, "must be at most 200 characters")
      .regex(/^[\x20-\x7e]+$/, "must be printable ASCII")
      .nullable()
      .optional()
      .openapi({ description: "Sent as User-Agent on deliveries (default Hookgate/<version>)", example: "Acme-Webhooks/1.0" }),
    problemTypeBase: httpsUrl("ending in /")
      .refine((s) => s.endsWith("/") && !s.includes("?") && !s.includes("#"), { message: "must end in / (no query or fragment)" })
      .nullable()
      .optional()
      .openapi({ description: `Problem documents' type is this followed by the code's slug (default ${DEFAULT_PROBLEM_TYPE_BASE})` }),
    accentColor: z
      .string()
      .regex(ACCENT_COLOR_PATTERN, "must be a #rrggbb colour")
      .nullable()
      .optional()
      .openapi({ description: "Darkened where text on it would fall under 4.5:1 contrast", example: "#ff6600" }),
    logo: z
      .string()
      .max(200_000, `must be at most ${LOGO_MAX_BYTES / 1024} KiB once decoded`)
      .nullable()
      .optional()
      .openapi({
        description: `A data URL of a PNG, JPEG, WebP or SVG image, at most ${LOGO_MAX_BYTES / 1024} KiB (checked by its bytes)`,
      }),
    supportUrl: httpsUrl("a link in the page footer").nullable().optional(),
    docsUrl: httpsUrl("a link in the page footer").nullable().optional(),
  })
  .openapi("PutBranding");

const BrandingSchema = z
  .object({
    productName: z.string(),
    headerPrefix: z.string(),
    userAgent: z.string(),
    problemTypeBase: z.string(),
    accentColor: z.string().nullable(),
    accentColorUsed: z.string().nullable().openapi({ description: "The accent the pages use (accentColor, darkened if needed)" }),
    logo: z.string().nullable().openapi({ description: "The logo as a data URL, typed by its bytes" }),
    logoUrl: z.string().nullable().openapi({ description: "Where the dashboard loads it" }),
    supportUrl: z.string().nullable(),
    docsUrl: z.string().nullable(),
    custom: z.boolean().openapi({ description: "False while every default applies" }),
    updatedAt: z.string().nullable(),
  })
  .openapi("Branding");

const tags = ["Operator"];

const putRoute = createRoute({
  method: "put",
  path: "/",
  tags,
  summary: "Set the brand tenants see (the whole brand)",
  description:
    "Your product's name on the dashboard, the portal and /docs, the X-<headerPrefix>-* headers and User-Agent of deliveries, and problem types. Fields left out return to their defaults. Applies to deliveries attempted after the change (within seconds in every isolate). Audited as branding.updated.",
  security: adminSecurity,
  request: jsonBody(PutBrandingBody),
  responses: { 200: jsonResponse(BrandingSchema, "The brand now in force"), ...errorResponses },
});

const getRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The brand in force (defaults where none is set)",
  security: adminSecurity,
  responses: { 200: jsonResponse(BrandingSchema, "The brand"), ...errorResponses },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/",
  tags,
  summary: "Return to the default brand",
  security: adminSecurity,
  responses: { 200: jsonResponse(BrandingSchema, "The defaults, now in force"), ...errorResponses },
});

const serialize = (b: Brand) => ({
  productName: b.productName,
  headerPrefix: b.headerPrefix,
  userAgent: b.userAgent,
  problemTypeBase: b.problemTypeBase,
  accentColor: b.accentColor,
  accentColorUsed: b.accent?.color ?? null,
  logo: b.logo ? `data:${b.logo.type};base64,${b.logo.base64}` : null,
  logoUrl: b.logo ? "/dashboard/brand/logo" : null,
  supportUrl: b.supportUrl,
  docsUrl: b.docsUrl,
  custom: b.custom,
  updatedAt: toIso(b.updatedAt),
});

/** The operator's brand: `/admin/branding`. */
export function adminBrandingRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  app.openapi(putRoute, async (c) => c.json(serialize(await setBranding(c.env, operatorActor(c), c.req.valid("json"))), 200));
  app.openapi(getRoute, async (c) => c.json(serialize(await currentBrand(c.env.DB)), 200));
  app.openapi(deleteRoute, async (c) => c.json(serialize(await resetBranding(c.env, operatorActor(c))), 200));
  return app;
}
