import { Hono } from "hono";
import { brandOrDefault } from "../branding/brand";
import type { AppEnv } from "../http/context";
import { cachedTenant } from "../tenants/cache";
import { LOGO_PATH, logoHeaders, THEME_PATH, themeCss } from "./brand-assets";
import { dashboardHeaders, docsHeaders } from "./csp";
import { ASSETS } from "./generated/assets";
import { dashboardPage, docsPage } from "./pages";

const TENANT_ID = /^ten_[A-Za-z0-9]{1,64}$/;

/**
 * `/dashboard` (sign in with an API key), `/dashboard/portal/:tenantId`
 * (where portal links land: framed by the tenant's `portalOrigins` only),
 * `/docs`, and their assets, all served by the Worker, under the operator's
 * brand (its logo and stylesheet at /dashboard/brand/).
 */
export function dashboardRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/dashboard", async (c) => {
    // Only a hint for the page (it then asks /admin/dashboard-sessions, which verifies the assertion).
    const behindAccess = Boolean(c.req.header("cf-access-jwt-assertion"));
    return c.html(dashboardPage(await brandOrDefault(c.env.DB), behindAccess), 200, dashboardHeaders([]));
  });
  app.get("/dashboard/", (c) => c.redirect("/dashboard", 301));

  app.get("/dashboard/portal/:tenantId", async (c) => {
    const id = c.req.param("tenantId");
    // An unknown tenant gets the same page (its link will not open), never framed.
    const tenant = TENANT_ID.test(id) ? await cachedTenant(c.env.DB, id) : undefined;
    return c.html(dashboardPage(await brandOrDefault(c.env.DB)), 200, dashboardHeaders(tenant?.portalOrigins ?? []));
  });

  app.get("/docs", async (c) => c.html(docsPage(await brandOrDefault(c.env.DB)), 200, docsHeaders()));

  app.get(LOGO_PATH, async (c) => {
    const brand = await brandOrDefault(c.env.DB);
    if (!brand.logo) return c.notFound();
    const headers = logoHeaders(brand);
    if (c.req.header("if-none-match") === brand.logo.etag) return c.body(null, 304, headers);
    return c.body(brand.logo.bytes.slice().buffer, 200, headers);
  });
  app.get(THEME_PATH, async (c) =>
    c.body(themeCss(await brandOrDefault(c.env.DB)), 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=60",
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "same-origin",
    }),
  );

  for (const prefix of ["/dashboard/assets/:name", "/docs/assets/:name"]) {
    app.get(prefix, (c) => {
      const name = c.req.param("name") ?? "";
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!asset) return c.notFound();
      // Names carry a hash of the content: a new build is a new name, so an asset never goes stale.
      return c.body(asset.body, 200, {
        "content-type": asset.type,
        "cache-control": "public, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
        "cross-origin-resource-policy": "same-origin",
      });
    });
  }

  return app;
}
