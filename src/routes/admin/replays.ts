import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter } from "../../http/openapi";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { mountReplays, replayRoutes } from "../replays";

/** `/admin/replays`: bulk replays of the operator's endpoints (their deliveries live in every tenant's shards). */
export function adminReplaysRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  mountReplays(app, replayRoutes(adminSecurity, ["Operator"]), (c) => operatorOp(c, OPERATOR_TENANT));
  return app;
}
