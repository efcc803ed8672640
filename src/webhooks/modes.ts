import type { TenantOp } from "../auth/caller";
import type { Mode } from "../common/enums";
import type { WebhookRow } from "../db/webhooks";
import { ValidationError } from "../lib/errors";
import { isOperator } from "../tenants/operator";

/** `modes` picks the modes an operator endpoint hears (null: live only); a tenant's subscription has its creator's one mode. */
export function checkedModes(op: Pick<TenantOp, "tenant">, modes: Mode[] | null | undefined): Mode[] | null {
  if (modes === undefined || modes === null) return null;
  if (!isOperator(op.tenant.id)) {
    throw new ValidationError([{ path: "modes", message: "only the operator's endpoints can be given modes" }]);
  }
  return [...new Set(modes)];
}

/** The modes whose events a subscription receives: a tenant's, its own; an operator endpoint's, its `modes`. */
export const modesOf = (w: Pick<WebhookRow, "tenantId" | "mode" | "modes">): Mode[] =>
  isOperator(w.tenantId) ? (w.modes ?? ["live"]) : [w.mode];
