import { createRoute } from "@hono/zod-openapi";
import { publishForTenant } from "../../events/publish";
import { requireAdmin } from "../../http/authenticate";
import { inlineRuntime } from "../../http/context";
import { readBody } from "../../http/middleware";
import { ModeQuery } from "../../http/mode-schemas";
import { adminSecurity, createRouter, errorResponses, idParam, jsonBody, jsonResponse } from "../../http/openapi";
import { EventWithDeliveries, IdempotencyHeader, PublishBody, publishInput, serializeDeliverySummary, serializeEvent } from "../events";

const publishForTenantRoute = createRoute({
  method: "post",
  path: "/{id}/events",
  tags: ["Operator"],
  summary: "Publish an event for a tenant, as the tenant's own publish would",
  description:
    "The operator's backend fires its product's events without holding any tenant's key: the types of the operator's " +
    "catalog (which only the operator publishes) and the tenant's own. Schema check, fan-out to the tenant's " +
    "subscriptions and to the operator endpoints covering the tenant, and idempotency (per tenant, shared with the " +
    "tenant's own publishes) are those of `POST /v1/events`; `deliveries` lists the tenant's. `?mode=test` publishes " +
    "into the tenant's test mode: its test subscriptions, and the operator endpoints whose `modes` include `test`.",
  security: adminSecurity,
  request: { params: idParam("ten"), query: ModeQuery, headers: IdempotencyHeader, ...jsonBody(PublishBody) },
  responses: { 202: jsonResponse(EventWithDeliveries, "Accepted for delivery"), ...errorResponses },
});

/** `POST /admin/tenants/{id}/events`: the operator publishes on a tenant's behalf. */
export function adminTenantEventsRoutes() {
  const app = createRouter();
  app.use("/:id/events", requireAdmin(), readBody());

  app.openapi(publishForTenantRoute, async (c) => {
    const input = { ...publishInput(c.req.valid("json"), c.req.valid("header")["idempotency-key"]), mode: c.req.valid("query").mode };
    const result = await publishForTenant(c.env, c.get("config"), c.req.valid("param").id, input, inlineRuntime(c));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json({ ...serializeEvent(result.event), deliveries: result.deliveries.map(serializeDeliverySummary) }, 202);
  });

  return app;
}
