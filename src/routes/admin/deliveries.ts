import { createRoute, z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../data/records";
import { deliveryWithAttempts, listDeliveryLog } from "../../delivery/log";
import { retryDelivery } from "../../delivery/retry";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter, errorResponses, idParam, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { AttemptSchema, DeliveryQuery, DeliverySchema, serializeAttempt, serializeDelivery } from "../deliveries";

const OperatorDeliverySchema = DeliverySchema.extend({
  tenantId: z.string().openapi({ description: "The tenant whose event this delivery carries" }),
}).openapi("OperatorDelivery");

const serializeOperatorDelivery = (d: DeliveryRecord) => ({ ...serializeDelivery(d), tenantId: d.eventTenantId });

const tags = ["Operator"];

const listOperatorDeliveriesRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "The delivery log of the operator's endpoints, newest first",
  security: adminSecurity,
  request: {
    query: DeliveryQuery.extend({ tenantId: z.string().max(64).optional().openapi({ description: "Only events of this tenant" }) }),
  },
  responses: { 200: jsonResponse(listOf(OperatorDeliverySchema), "A page of deliveries"), ...errorResponses },
});

const getOperatorDeliveryRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "A delivery to an operator endpoint, with every attempt",
  security: adminSecurity,
  request: { params: idParam("dlv") },
  responses: {
    200: jsonResponse(
      OperatorDeliverySchema.extend({ attempts: z.array(AttemptSchema) }).openapi("OperatorDeliveryWithAttempts"),
      "The delivery",
    ),
    ...errorResponses,
  },
});

const retryOperatorDeliveryRoute = createRoute({
  method: "post",
  path: "/{id}/retry",
  tags,
  summary: "Attempt a delivery to an operator endpoint once more, now",
  description: "For a failed, cancelled or succeeded delivery: one more attempt outside the schedule. 409 while one is pending.",
  security: adminSecurity,
  request: { params: idParam("dlv") },
  responses: { 202: jsonResponse(OperatorDeliverySchema, "Queued"), ...errorResponses, 409: errorResponses[400] },
});

/** The deliveries to the operator's own endpoints: `/admin/deliveries`. Tenants never see them. */
export function adminDeliveriesRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());

  app.openapi(listOperatorDeliveriesRoute, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    const found = await listDeliveryLog(operatorOp(c, OPERATOR_TENANT), limit, filter, decodeCursor(cursor));
    return c.json(page(found, serializeOperatorDelivery), 200);
  });

  app.openapi(getOperatorDeliveryRoute, async (c) => {
    const { delivery, attempts } = await deliveryWithAttempts(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id);
    return c.json({ ...serializeOperatorDelivery(delivery), attempts: attempts.map(serializeAttempt) }, 200);
  });

  app.openapi(retryOperatorDeliveryRoute, async (c) => {
    return c.json(serializeOperatorDelivery(await retryDelivery(operatorOp(c, OPERATOR_TENANT), c.req.valid("param").id)), 202);
  });

  return app;
}
