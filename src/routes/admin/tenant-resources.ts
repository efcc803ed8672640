import { z } from "@hono/zod-openapi";
import { deliveryWithAttempts, listDeliveryLog } from "../../delivery/engine/log";
import { adminSecurity } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import { CreateWebhookBody, NewWebhookSchema, WebhookSchema } from "../../http/webhook-schemas";
import { changeWebhook, findWebhook, listSubscriptions } from "../../webhooks/webhooks";
import { auditLogRoute, mountAuditLog } from "../audit-log";
import {
  DeliveryQuery,
  DeliverySchema,
  DeliveryWithAttemptsSchema,
  deliveryRoutes,
  RETRY_DESCRIPTION,
  serializeAttempt,
  serializeDelivery,
} from "../deliveries";
import { IS_ENABLED_EFFECT, serializeWebhook, webhookRoutes } from "../webhooks";
import { opOf, tenantScoped, tenantScopedRouter } from "./tenant-scoped";

const tags = ["Operator"];

/** The operator may switch a tenant's endpoint off or on, nothing else. */
const SwitchWebhookBody = z
  .strictObject({ isEnabled: z.boolean().openapi({ description: IS_ENABLED_EFFECT }) })
  .openapi("SwitchTenantWebhook");

/** `/admin/tenants/{tenantId}/webhooks`: a tenant's subscriptions, read, and switched off or on. */
export function adminTenantWebhooksRoutes() {
  const app = tenantScopedRouter("webhooks");
  const none = { summary: "" };
  const routes = webhookRoutes(
    adminSecurity,
    tags,
    {
      create: none,
      list: { summary: "List a tenant's webhook subscriptions" },
      get: { summary: "Get a tenant's webhook subscription (never its secret)" },
      patch: {
        summary: "Switch a tenant's subscription off or on",
        description: "Only `isEnabled` (any other field: 422). Recorded in the tenant's audit log and the operator's.",
      },
      delete: none,
    },
    "subscription",
    { create: CreateWebhookBody, created: NewWebhookSchema, shown: WebhookSchema, patch: SwitchWebhookBody },
  );
  app.openapi(tenantScoped(routes.list, "webhooks"), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listSubscriptions(await opOf(c), limit, decodeCursor(cursor)), serializeWebhook), 200);
  });
  app.openapi(tenantScoped(routes.get, "webhooks"), async (c) =>
    c.json(serializeWebhook(await findWebhook(await opOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(tenantScoped(routes.patch, "webhooks"), async (c) => {
    const { isEnabled } = c.req.valid("json");
    return c.json(serializeWebhook(await changeWebhook(await opOf(c), c.req.valid("param").id, { isEnabled })), 200);
  });
  return app;
}

/** `/admin/tenants/{tenantId}/deliveries`: a tenant's delivery log, with §7's filters. */
export function adminTenantDeliveriesRoutes() {
  const app = tenantScopedRouter("deliveries");
  const routes = deliveryRoutes(
    adminSecurity,
    tags,
    {
      list: { summary: "A tenant's delivery log, newest first" },
      get: { summary: "A tenant's delivery, with every attempt" },
      retry: { summary: "", description: RETRY_DESCRIPTION },
    },
    { query: DeliveryQuery, shown: DeliverySchema, withAttempts: DeliveryWithAttemptsSchema },
  );
  app.openapi(tenantScoped(routes.list, "deliveries"), async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    return c.json(page(await listDeliveryLog(await opOf(c), limit, filter, decodeCursor(cursor)), serializeDelivery), 200);
  });
  app.openapi(tenantScoped(routes.get, "deliveries"), async (c) => {
    const { delivery, attempts } = await deliveryWithAttempts(await opOf(c), c.req.valid("param").id);
    return c.json({ ...serializeDelivery(delivery), attempts: attempts.map(serializeAttempt) }, 200);
  });
  return app;
}

/** `/admin/tenants/{tenantId}/audit-log`: the tenant's own log, as the tenant reads it. */
export function adminTenantAuditLogRoutes() {
  const app = tenantScopedRouter("audit-log");
  const route = auditLogRoute(adminSecurity, tags, {
    summary: "A tenant's audit log, newest first",
    description: "What the tenant's credentials did, and what the operator did to the tenant (actor `operator` or `operator:<email>`).",
  });
  mountAuditLog(app, tenantScoped(route, "audit-log"), opOf);
  return app;
}
