import { html } from "hono/html";
import { DASHBOARD_ASSETS, DOCS_ASSETS } from "./generated/assets";

/**
 * The dashboard's page: an empty shell that loads the client, which signs
 * in (or opens a portal link) and then calls the public /v1 API with the
 * session's bearer token. The page itself carries no data, so it is the
 * same for every tenant and every session.
 */
export const dashboardPage = () => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Hookgate dashboard</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${DASHBOARD_ASSETS.style}" />
    <script type="module" src="${DASHBOARD_ASSETS.script}"></script>
  </head>
  <body>
    <div id="app"><noscript>The dashboard needs JavaScript.</noscript></div>
  </body>
</html>
`;

/** Interactive API docs: Swagger UI from the Worker itself, started by a script file (no inline script). */
export const docsPage = () => html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Hookgate API docs</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${DOCS_ASSETS.style}" />
    <script src="${DOCS_ASSETS.bundle}" defer></script>
    <script src="${DOCS_ASSETS.script}" defer></script>
  </head>
  <body>
    <main id="swagger-ui" data-spec="/openapi.json"></main>
  </body>
</html>
`;
