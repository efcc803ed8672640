import { html } from "hono/html";
import type { Brand } from "../branding/brand";
import { pageTitle } from "../common/branding";
import { brandAssetVersion, LOGO_PATH, THEME_PATH } from "./brand-assets";
import { DASHBOARD_ASSETS, DOCS_ASSETS } from "./generated/assets";

/**
 * The dashboard's page: an empty shell that loads the client, which signs
 * in (or opens a portal link) and then calls the public /v1 API with the
 * session's bearer token. The page carries no tenant's data, only the
 * operator's brand: the title, and for the client's header and footer the
 * product name, the logo's address (the logo itself is never inlined) and
 * the footer links, as data attributes (escaped: the brand is data).
 */
/** `behindAccess`: the page's request carried a Cloudflare Access assertion, so the console may sign in through it at once. */
export const dashboardPage = (brand: Brand, behindAccess = false) => {
  const v = brandAssetVersion(brand);
  const logo = brand.logo ? `${LOGO_PATH}?v=${v}` : "";
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>${pageTitle(brand.productName)}</title>
    <link rel="icon" href="${logo || "data:,"}" />
    <link rel="stylesheet" href="${DASHBOARD_ASSETS.style}" />
    <link rel="stylesheet" href="${THEME_PATH}?v=${v}" />
    <script type="module" src="${DASHBOARD_ASSETS.script}"></script>
  </head>
  <body>
    <div
      id="app"
      data-product-name="${brand.productName}"
      data-logo="${logo}"
      data-support-url="${brand.supportUrl ?? ""}"
      data-docs-url="${brand.docsUrl ?? ""}"
      data-behind-access="${behindAccess ? "1" : ""}"
    ><noscript>The dashboard needs JavaScript.</noscript></div>
  </body>
</html>
`;
};

/** Interactive API docs: Swagger UI from the Worker itself, started by a script file (no inline script), under the brand. */
export const docsPage = (brand: Brand) => {
  const v = brandAssetVersion(brand);
  const logo = brand.logo ? `${LOGO_PATH}?v=${v}` : "";
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${pageTitle(brand.productName)}</title>
    <link rel="icon" href="${logo || "data:,"}" />
    <link rel="stylesheet" href="${DOCS_ASSETS.style}" />
    <link rel="stylesheet" href="${THEME_PATH}?v=${v}" />
    <script src="${DOCS_ASSETS.bundle}" defer></script>
    <script src="${DOCS_ASSETS.script}" defer></script>
  </head>
  <body>
    <header class="brand-bar">
      ${logo ? html`<img class="brand-logo" src="${logo}" alt="" />` : ""}<span class="brand-name">${brand.productName}</span>
      <span class="brand-what">API reference</span>
    </header>
    <main id="swagger-ui" data-spec="/openapi.json"></main>
    ${footer(brand)}
  </body>
</html>
`;
};

const footer = (brand: Brand) =>
  brand.supportUrl || brand.docsUrl
    ? html`<footer class="brand-footer">
      ${brand.supportUrl ? html`<a href="${brand.supportUrl}" rel="noopener noreferrer" target="_blank">Support</a>` : ""}
      ${brand.docsUrl ? html`<a href="${brand.docsUrl}" rel="noopener noreferrer" target="_blank">Documentation</a>` : ""}
    </footer>`
    : "";
