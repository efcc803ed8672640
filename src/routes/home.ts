import { Hono } from "hono";
import { html } from "hono/html";
import { brandOrDefault } from "../branding/brand";
import type { AppEnv } from "../http/context";
import { VERSION } from "../version";

/**
 * `GET /`: where a browser lands after `npm start` (or on a deployment's bare
 * hostname). A browser gets a small page linking to the dashboard and the API
 * docs; anything else gets the same links as JSON. It yields to the edge
 * gateway, which runs first: on a gateway host, or under a route covering
 * `/`, the path belongs to the operator's API.
 */
export function homeRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => {
    const { productName } = await brandOrDefault(c.env.DB);
    const accept = c.req.header("accept") ?? "";
    if (/\btext\/html\b/i.test(accept)) return c.html(homePage(productName), 200, HOME_HEADERS);
    const link = (path: string) => new URL(path, c.req.url).href;
    return c.json({
      name: productName,
      version: VERSION,
      dashboard: link("/dashboard"),
      docs: link("/docs"),
      openapi: link("/openapi.json"),
      health: link("/health"),
    });
  });
  return app;
}

/** Static text, the operator's product name and relative links only: nothing from the request reaches the page. */
const homePage = (productName: string) => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${productName}</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <h1>${productName} ${VERSION}</h1>
    <p>API keys and webhooks for your customers.</p>
    <ul>
      <li><a href="/dashboard">Dashboard</a>: your customers' Integrations page (sign in with an API key)</li>
      <li><a href="/docs">API reference</a> (<a href="/openapi.json">OpenAPI document</a>)</li>
    </ul>
  </body>
</html>
`;

/** The page loads nothing and runs nothing, and is never framed. */
const HOME_HEADERS = {
  "content-security-policy": "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
