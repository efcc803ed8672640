import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter } from "../../http/openapi";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { mountWebhookActions, ROTATE_SECRET_DESCRIPTION, type WebhookActionTexts, webhookActionRoutes } from "../webhook-actions";

const OPERATOR_TEXT: WebhookActionTexts = {
  test: {
    summary: "Send a signed sample event to an operator endpoint now and report its answer",
    description: 'The sample carries `tenantId: "ten_test"`, which is no tenant\'s.',
  },
  stats: { summary: "Health of an operator endpoint over the last 24 h" },
  rotateSecret: { summary: "Replace an operator endpoint's signing secret", description: ROTATE_SECRET_DESCRIPTION },
  recover: { summary: "Re-send every failed delivery to an operator endpoint since a time (one more attempt each)" },
};

/** Test sends, stats, secret rotation and recovery of the operator's endpoints: `/admin/webhooks/{id}/...`. */
export function adminWebhookActionsRoutes() {
  const app = createRouter();
  app.use("/:id/*", requireAdmin(), readBody());
  mountWebhookActions(app, webhookActionRoutes(adminSecurity, ["Operator"], OPERATOR_TEXT), (c) => operatorOp(c, OPERATOR_TENANT));
  return app;
}
