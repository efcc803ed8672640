import type { Mode } from "../common/enums";
import type { Config } from "../config";
import type { AuditActor } from "../db/audit";
import type { TenantRow } from "../db/tenants";
import type { Principal } from "./principal";

/** Who asks for an operation: a tenant credential (bound by its scopes and restrictions), or the operator. */
export type Caller = { principal: Principal } | { operator: true };

/**
 * What an operation on one tenant's resources takes: the bindings, the
 * parsed config, the tenant, the caller and its audit identity. Built by
 * the tenant route or by its admin twin, so both run the same code.
 */
export type TenantOp = {
  env: Env;
  config: Config;
  tenant: TenantRow;
  /** The mode acted in: the credential's own, or the one an operator request names (live by default). */
  mode: Mode;
  caller: Caller;
  who: AuditActor;
};

/** Audit identity of a tenant credential's request. */
export const actorOf = (principal: Principal, requestId: string): AuditActor => ({
  tenantId: principal.tenant.id,
  actor: principal.credentialId,
  ip: principal.ip,
  requestId,
});

/**
 * The mode whose resources the caller sees: a tenant credential's own, or
 * `null` for the operator, who sees both.
 */
export const callerMode = (caller: Caller): Mode | null => ("operator" in caller ? null : caller.principal.mode);
