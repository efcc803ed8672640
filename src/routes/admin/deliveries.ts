import { z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../data/records";
import { modeOfId } from "../../data/shard-map";
import { deliveryWithAttempts, listDeliveryLog } from "../../delivery/engine/log";
import { retryDelivery } from "../../delivery/engine/retry";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { ModeQuery } from "../../http/mode-schemas";
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
  ...ModeQuery.shape,
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
  // The operator's endpoints may hear both modes: a delivery's id says which one it is in.
  const opFor = (c: Parameters<typeof operatorOp>[0], id: string) => operatorOp(c, OPERATOR_TENANT, modeOfId(id));

  app.openapi(routes.list, async (c) => {
    // The deliveries of the tenants' events of one mode (live by default): an endpoint may hear both.
    const { limit, cursor, mode, ...filter } = c.req.valid("query");
    const log = await listDeliveryLog({ ...op(c), mode }, limit, filter, decodeCursor(cursor));
    return c.json(page(log, serializeOperatorDelivery), 200);
  });
  app.openapi(routes.get, async (c) => {
    const { id } = c.req.valid("param");
    const { delivery, attempts } = await deliveryWithAttempts(opFor(c, id), id);
    return c.json({ ...serializeOperatorDelivery(delivery), attempts: attempts.map(serializeAttempt) }, 200);
  });
  app.openapi(routes.retry, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(serializeOperatorDelivery(await retryDelivery(opFor(c, id), id)), 202);
  });
  return app;
}
