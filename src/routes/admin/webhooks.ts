import type { WebhookRow } from "../../db/webhooks";
import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter } from "../../http/openapi";
import { decodeCursor, page } from "../../http/pagination";
import {
  CreateOperatorWebhookBody,
  NewOperatorWebhookSchema,
  OperatorWebhookSchema,
  PatchOperatorWebhookBody,
} from "../../http/webhook-schemas";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { changeWebhook, createWebhook, deleteWebhook, findWebhook, listSubscriptions } from "../../webhooks/webhooks";
import { IS_ENABLED_EFFECT, serializeWebhook, type WebhookTexts, webhookRoutes } from "../webhooks";

export const serializeOperatorWebhook = (w: WebhookRow) => ({
  ...serializeWebhook(w),
  tenantIds: w.tenantIds ?? null,
  modes: w.modes ?? ["live" as const],
});

const OPERATOR_TEXT: WebhookTexts = {
  create: {
    summary: "Subscribe an operator endpoint to the events of every tenant, or of some",
    description:
      "The fields of a tenant's subscription, plus `tenantIds` and `modes` (the tenants' modes it hears: `[\"live\"]` by " +
      'default; `["test"]` or `["live", "test"]` for test mode\'s events). `eventTypes` may name the operator\'s types or any ' +
      "covered tenant's. Its deliveries carry `tenantId` and `mode` in the body and `X-Webhook-Tenant-Id` and `X-Webhook-Mode`, are signed and retried " +
      "like any, and are listed at `/admin/deliveries`, never to tenants. The signing secret is returned once.",
  },
  list: { summary: "List the operator's endpoints" },
  get: { summary: "Get an operator endpoint (never its secret)" },
  patch: {
    summary: "Update an operator endpoint (anything but its secret)",
    description: `\`tenantIds: null\` covers every tenant again; \`modes: null\` live only. ${IS_ENABLED_EFFECT}`,
  },
  delete: { summary: "Delete an operator endpoint; its pending deliveries are cancelled" },
};

/** The operator's own endpoints: `/admin/webhooks`, the subscription operations on the operator's resources. */
export function adminWebhooksRoutes() {
  const app = createRouter();
  // Not "*": the actions router shares the /admin/webhooks prefix, and its requests must pass the gate once.
  for (const path of ["/", "/:id"]) app.use(path, requireAdmin(), readBody());
  const routes = webhookRoutes(adminSecurity, ["Operator"], OPERATOR_TEXT, "endpoint", {
    create: CreateOperatorWebhookBody,
    created: NewOperatorWebhookSchema,
    shown: OperatorWebhookSchema,
    patch: PatchOperatorWebhookBody,
  });
  const op = (c: Parameters<typeof operatorOp>[0]) => operatorOp(c, OPERATOR_TENANT);

  app.openapi(routes.create, async (c) => {
    const { row, secret } = await createWebhook(op(c), c.req.valid("json"));
    return c.json({ ...serializeOperatorWebhook(row), secret }, 201);
  });
  app.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listSubscriptions(op(c), limit, decodeCursor(cursor)), serializeOperatorWebhook), 200);
  });
  app.openapi(routes.get, async (c) => c.json(serializeOperatorWebhook(await findWebhook(op(c), c.req.valid("param").id)), 200));
  app.openapi(routes.patch, async (c) => {
    const { secret: _refused, ...change } = c.req.valid("json");
    return c.json(serializeOperatorWebhook(await changeWebhook(op(c), c.req.valid("param").id, change)), 200);
  });
  app.openapi(routes.delete, async (c) => {
    await deleteWebhook(op(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
