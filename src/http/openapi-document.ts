import type { OpenAPIHono } from "@hono/zod-openapi";
import { type Brand, brandOrDefault } from "../branding/brand";
import { DEFAULT_HEADER_PREFIX } from "../common/branding";
import { VERSION } from "../version";
import type { AppEnv } from "./context";

/**
 * `GET /openapi.json`: the document generated from the routes' schemas, told
 * in the operator's words. With a brand set, its title is the product's and
 * the text names the product and its delivery headers (`X-<headerPrefix>-*`)
 * where it would name Hookgate and `X-Webhook-*`, so /docs shows a tenant
 * the operator's name only. Identifiers (schema names, enum values) keep theirs.
 */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>, path = "/openapi.json"): void {
  app.get(path, async (c) => {
    const brand = await brandOrDefault(c.env.DB);
    const document = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: `${brand.productName} API`,
        version: VERSION,
        description: "API keys, OAuth2 client credentials and signed webhooks for your customers.",
      },
    });
    if (!brand.custom) return c.json(document);
    return c.body(rebrandText(JSON.stringify(document), brand), 200, { "content-type": "application/json" });
  });
}

/** `text` (JSON) with the product's name for Hookgate's and the brand's delivery headers for `X-Webhook-*`. */
export function rebrandText(json: string, brand: Pick<Brand, "productName" | "headerPrefix">): string {
  const name = JSON.stringify(brand.productName).slice(1, -1);
  let out = json.replace(/(?<![\w-])Hookgate(?![\w-])/g, () => name);
  if (brand.headerPrefix !== DEFAULT_HEADER_PREFIX) out = out.replace(/X-Webhook-(?=[A-Z*])/g, `X-${brand.headerPrefix}-`);
  return out;
}
