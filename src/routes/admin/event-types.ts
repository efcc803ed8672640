import { requireAdmin } from "../../http/authenticate";
import { operatorOp } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, createRouter } from "../../http/openapi";
import { OPERATOR_TENANT } from "../../tenants/operator";
import { mountTypeVersions } from "../event-type-versions";
import { type EventTypeTexts, eventTypeRoutes, mountEventTypes } from "../event-types";

const OPERATOR_TEXT: EventTypeTexts = {
  create: {
    summary: "Add an event type to the operator's catalog, which every tenant sees",
    description:
      "Tenants may subscribe to and poll these types; only the operator publishes them (`POST /admin/tenants/{id}/events`). " +
      "A name any tenant's catalog holds cannot be taken (409 `duplicate_name`). Re-creating an archived type's name brings it back.",
  },
  list: { summary: "List the operator's event types, by name" },
  get: { summary: "Get one of the operator's event types (archived ones too)" },
  patch: { summary: "Update one of the operator's event types" },
  delete: { summary: "Archive one of the operator's event types (its events stay)" },
};

/** The operator's event catalog: `/admin/event-types`, the same operations as a tenant's on the operator's own types. */
export function adminEventTypesRoutes() {
  const app = createRouter();
  app.use("*", requireAdmin(), readBody());
  const op = (c: Parameters<typeof operatorOp>[0]) => operatorOp(c, OPERATOR_TENANT);
  mountEventTypes(app, eventTypeRoutes(adminSecurity, ["Operator"], OPERATOR_TEXT), op);
  mountTypeVersions(app, adminSecurity, ["Operator"], op);
  return app;
}
