import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { adminSecurity, createRouter } from "../../http/openapi";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { auditLogRoute, mountAuditLog } from "../audit-log";

/** `GET /admin/audit-log`: the operator's own log. */
export function adminAuditLogRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin());
  const route = auditLogRoute(adminSecurity, ["Operator"], {
    summary: "The operator's own audit log, newest first",
    description:
      "Changes to the operator's catalog, endpoints, product scopes and gateway (`operator_event_type.created`, " +
      "`operator_webhook.updated`, `scopes.updated`, ...), with actor `operator`. Changes to a tenant are in that tenant's log.",
  });
  mountAuditLog(app, route, (c) => operatorOp(c, OPERATOR_TENANT));
  return app;
}
