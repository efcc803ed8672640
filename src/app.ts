import { dashboardRoutes } from "./dashboard/routes";
import { gateway } from "./http/gateway";
import { configGuard, requestId } from "./http/middleware";
import { observeRequests } from "./http/observe";
import { createRouter } from "./http/openapi";
import { serveOpenApiDocument } from "./http/openapi-document";
import { handleError, problemResponse } from "./http/problem";
import { DomainError } from "./lib/errors";
import { adminAuditLogRoutes } from "./routes/admin/audit-log";
import { adminBrandingRoutes } from "./routes/admin/branding";
import { adminDeliveriesRoutes } from "./routes/admin/deliveries";
import { adminEventTypesRoutes } from "./routes/admin/event-types";
import { adminGatewayRoutes } from "./routes/admin/gateway";
import { adminTenantRequestsRoutes, adminTenantUsageRoutes, adminUsageRoutes } from "./routes/admin/monitoring";
import { adminOperatorSessionsRoutes } from "./routes/admin/operator-sessions";
import { adminReplaysRoutes } from "./routes/admin/replays";
import { adminScopesRoutes } from "./routes/admin/scopes";
import { adminTenantClientsRoutes, adminTenantKeysRoutes } from "./routes/admin/tenant-credentials";
import { adminTenantEventsRoutes } from "./routes/admin/tenant-events";
import { adminTenantPortalRoutes } from "./routes/admin/tenant-portal";
import { adminTenantAuditLogRoutes, adminTenantDeliveriesRoutes, adminTenantWebhooksRoutes } from "./routes/admin/tenant-resources";
import { adminTenantsRoutes } from "./routes/admin/tenants";
import { adminVerifyRoutes } from "./routes/admin/verify";
import { adminWebhookActionsRoutes } from "./routes/admin/webhook-actions";
import { adminWebhooksRoutes } from "./routes/admin/webhooks";
import { auditLogRoutes } from "./routes/audit-log";
import { dashboardSessionsRoutes } from "./routes/dashboard-sessions";
import { deliveriesRoutes } from "./routes/deliveries";
import { eventTypesRoutes } from "./routes/event-types";
import { eventsRoutes } from "./routes/events";
import { homeRoutes } from "./routes/home";
import { intakeRoutes } from "./routes/intake";
import { keysRoutes } from "./routes/keys";
import { listenRoutes } from "./routes/listen";
import { oauthClientsRoutes } from "./routes/oauth-clients";
import { oauthTokenRoutes } from "./routes/oauth-token";
import { portalSessionsRoutes } from "./routes/portal-sessions";
import { replaysRoutes } from "./routes/replays";
import { requestsRoutes } from "./routes/requests";
import { scopesRoutes } from "./routes/scopes";
import { sourcesRoutes } from "./routes/sources";
import { usageRoutes } from "./routes/usage";
import { webhookActionsRoutes } from "./routes/webhook-actions";
import { webhookVerifyRoutes } from "./routes/webhook-verify";
import { webhooksRoutes } from "./routes/webhooks";
import { whoamiRoutes } from "./routes/whoami";
import { VERSION } from "./version";

/** The HTTP API: conventions first, then every router, each mounted here. */
export function createApp() {
  const app = createRouter();

  app.use("*", requestId());
  // The request's log line, and its outcome counted for its credential (added up in the isolate).
  app.use("*", observeRequests());
  // First: on a gateway host every path is the operator's API, /health included.
  app.use("*", gateway());
  app.get("/health", (c) => c.json({ ok: true, version: VERSION }));
  // Links to the dashboard and /docs for whoever opens the bare hostname.
  app.route("/", homeRoutes());

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "A static API key or an OAuth2 access token",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKeyHeader", { type: "apiKey", in: "header", name: "X-Api-Key" });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description:
      "The operator's ADMIN_TOKEN (or, where ACCESS_TEAM_DOMAIN and ACCESS_AUD are set and no Authorization is sent, a Cloudflare Access assertion in Cf-Access-Jwt-Assertion)",
  });

  for (const prefix of ["/v1/*", "/admin/*", "/oauth/*", "/in/*"]) app.use(prefix, configGuard());
  // Operator
  app.route("/admin/tenants", adminTenantsRoutes());
  app.route("/admin/tenants", adminTenantEventsRoutes());
  app.route("/admin/tenants", adminTenantWebhooksRoutes());
  app.route("/admin/tenants", adminTenantDeliveriesRoutes());
  app.route("/admin/tenants", adminTenantAuditLogRoutes());
  app.route("/admin/tenants", adminTenantKeysRoutes());
  app.route("/admin/tenants", adminTenantClientsRoutes());
  app.route("/admin/tenants", adminTenantPortalRoutes());
  app.route("/admin/tenants", adminTenantUsageRoutes());
  app.route("/admin/tenants", adminTenantRequestsRoutes());
  app.route("/admin/usage", adminUsageRoutes());
  app.route("/admin/dashboard-sessions", adminOperatorSessionsRoutes());
  app.route("/admin/scopes", adminScopesRoutes());
  app.route("/admin/gateway", adminGatewayRoutes());
  app.route("/admin/verify", adminVerifyRoutes());
  app.route("/admin/branding", adminBrandingRoutes());
  // The operator's event catalog, endpoints and audit log
  app.route("/admin/event-types", adminEventTypesRoutes());
  app.route("/admin/webhooks", adminWebhooksRoutes());
  app.route("/admin/webhooks", adminWebhookActionsRoutes());
  app.route("/admin/deliveries", adminDeliveriesRoutes());
  app.route("/admin/replays", adminReplaysRoutes());
  app.route("/admin/audit-log", adminAuditLogRoutes());
  // Credentials
  app.route("/v1/keys", keysRoutes());
  app.route("/v1/oauth-clients", oauthClientsRoutes());
  app.route("/oauth", oauthTokenRoutes());
  app.route("/v1/whoami", whoamiRoutes());
  app.route("/v1/scopes", scopesRoutes());
  app.route("/v1/audit-log", auditLogRoutes());
  app.route("/v1/usage", usageRoutes());
  app.route("/v1/requests", requestsRoutes());
  // Dashboard sessions and portal links
  app.route("/v1/dashboard-sessions", dashboardSessionsRoutes());
  app.route("/v1/portal-sessions", portalSessionsRoutes());
  // Events and webhooks
  app.route("/v1/event-types", eventTypesRoutes());
  app.route("/v1/events", eventsRoutes());
  // Before the subscriptions' router, whose "/:id" gate would otherwise take "/verify" as an id and admit it twice.
  app.route("/v1/webhooks", webhookVerifyRoutes());
  app.route("/v1/webhooks", webhooksRoutes());
  app.route("/v1/webhooks", webhookActionsRoutes());
  app.route("/v1/deliveries", deliveriesRoutes());
  app.route("/v1/replays", replaysRoutes());
  app.route("/v1/listen", listenRoutes());
  // Incoming webhooks
  app.route("/v1/sources", sourcesRoutes());
  app.route("/in", intakeRoutes());

  // Generated from the same schemas, in the operator's words (its brand).
  serveOpenApiDocument(app);
  // The dashboard and its embeddable portal, /docs, and their assets (served by the Worker, no CDN)
  app.route("/", dashboardRoutes());

  app.notFound((c) => problemResponse(c, new DomainError("not_found", `No route for ${c.req.method} ${c.req.path}`)));
  app.onError(handleError);
  return app;
}
