import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { cachedTenant } from "../tenants/cache";
import { dashboardHeaders, docsHeaders } from "./csp";
import { ASSETS } from "./generated/assets";
import { dashboardPage, docsPage } from "./pages";

const TENANT_ID = /^ten_[A-Za-z0-9]{1,64}$/;

/**
 * `/dashboard` (sign in with an API key), `/dashboard/portal/:tenantId`
 * (where portal links land: framed by the tenant's `portalOrigins` only),
 * `/docs`, and their assets, all served by the Worker.
 */
export function dashboardRoutes() {
  const app = new Hono<AppEnv>();

  app.get("/dashboard", (c) => c.html(dashboardPage(), 200, dashboardHeaders([])));
  app.get("/dashboard/", (c) => c.redirect("/dashboard", 301));

  app.get("/dashboard/portal/:tenantId", async (c) => {
    const id = c.req.param("tenantId");
    // An unknown tenant gets the same page (its link will not open), never framed.
    const tenant = TENANT_ID.test(id) ? await cachedTenant(c.env.DB, id) : undefined;
    return c.html(dashboardPage(), 200, dashboardHeaders(tenant?.portalOrigins ?? []));
  });

  app.get("/docs", (c) => c.html(docsPage(), 200, docsHeaders()));

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
