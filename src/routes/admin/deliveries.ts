import { z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../data/records";
import { deliveryWithAttempts, listDeliveryLog } from "../../delivery/engine/log";
import { retryDelivery } from "../../delivery/engine/retry";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import { OPERATOR_TENANT } from "../../tenants/operator";
import {
  AttemptSchema,
  DeliveryQuery,
  DeliverySchema,
  type DeliveryTexts,
  deliveryRoutes,
  RETRY_DESCRIPTION,
  serializeAttempt,
  serializeDelivery,
} from "../deliveries";

const OperatorDeliverySchema = DeliverySchema.extend({
  tenantId: z.string().openapi({ description: "The tenant whose event this delivery carries" }),
}).openapi("OperatorDelivery");

const OperatorDeliveryWithAttempts = OperatorDeliverySchema.extend({ attempts: z.array(AttemptSchema) }).openapi(
  "OperatorDeliveryWithAttempts",
);

const OperatorDeliveryQuery = DeliveryQuery.extend({
  tenantId: z.string().max(64).optional().openapi({ description: "Only events of this tenant" }),
});

const serializeOperatorDelivery = (d: DeliveryRecord) => ({ ...serializeDelivery(d), tenantId: d.eventTenantId });

const OPERATOR_TEXT: DeliveryTexts = {
  list: { summary: "The delivery log of the operator's endpoints, newest first" },
  get: { summary: "A delivery to an operator endpoint, with every attempt" },
  retry: { summary: "Attempt a delivery to an operator endpoint once more, now", description: RETRY_DESCRIPTION },
};

/** The deliveries to the operator's own endpoints: `/admin/deliveries`. Tenants never see them. */
export function adminDeliveriesRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  const routes = deliveryRoutes(adminSecurity, ["Operator"], OPERATOR_TEXT, {
    query: OperatorDeliveryQuery,
    shown: OperatorDeliverySchema,
    withAttempts: OperatorDeliveryWithAttempts,
  });
  const op = (c: Parameters<typeof operatorOp>[0]) => operatorOp(c, OPERATOR_TENANT);

  app.openapi(routes.list, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query");
    return c.json(page(await listDeliveryLog(op(c), limit, filter, decodeCursor(cursor)), serializeOperatorDelivery), 200);
  });
  app.openapi(routes.get, async (c) => {
    const { delivery, attempts } = await deliveryWithAttempts(op(c), c.req.valid("param").id);
    return c.json({ ...serializeOperatorDelivery(delivery), attempts: attempts.map(serializeAttempt) }, 200);
  });
  app.openapi(routes.retry, async (c) => c.json(serializeOperatorDelivery(await retryDelivery(op(c), c.req.valid("param").id)), 202));
  return app;
}
