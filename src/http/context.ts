import type { Context } from "hono";
import { actorOf, type TenantOp } from "../auth/caller";
import { clientIp } from "../auth/credentials";
import type { Principal } from "../auth/principal";
import type { Mode } from "../common/enums";
import type { Config } from "../config";
import type { AuditActor } from "../db/audit";
import type { TenantRow } from "../db/tenants";
import type { DispatchRuntime } from "../delivery/engine/dispatch";
import { OPERATOR_ID } from "../tenants/operator";
import { deliveryPorts } from "../wiring";

/** Whose request it was, once its credential is identified (set by the authentication middleware). */
export type ObservedCredential = { tenantId: string; credentialId: string; mode: Mode; ip: string | null };

export const observedCredential = (p: Principal): ObservedCredential => ({
  tenantId: p.tenant.id,
  credentialId: p.credentialId,
  mode: p.mode,
  ip: p.ip,
});

/** Hono environment shared by every route: bindings and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** Set by `requireCredential` on tenant routes. */
    principal: Principal;
    /** Set by `requireAdmin`: `operator`, or `operator:<email>` for a Cloudflare Access identity. */
    operator: string;
    /** Set by `requireAdmin` when the request came with an operator console session token. */
    operatorSession?: string;
    /** The request's credential once identified (any route, the gateway too): its answer is counted for it. */
    credential?: ObservedCredential;
    /** The problem `code` of an error answer, for the request's log line. */
    errorCode?: string;
    /** The route that answered, when no Hono route did (the gateway's): for the log line. */
    route?: string;
  };
};

/** The operation context of a tenant route: the calling credential acts on its own tenant. */
export function tenantOp(c: Context<AppEnv>): TenantOp {
  const principal = c.get("principal");
  return {
    env: c.env,
    config: c.get("config"),
    tenant: principal.tenant,
    mode: principal.mode,
    caller: { principal },
    who: actorOf(principal, c.get("requestId")),
  };
}

/** A request's delivery runtime: the Worker's ports, and a delivery's first attempt may run in `waitUntil`, outliving the response. */
export function inlineRuntime(c: Context<AppEnv>): DispatchRuntime {
  const config = c.get("config");
  return { config, ports: deliveryPorts(c.env, config), defer: (work) => c.executionCtx.waitUntil(work) };
}

/**
 * The audit identity of an operator request, in a tenant's log (a change to
 * that tenant) or in the operator's own (`tenantId` null or the operator's
 * id): the actor is `operator`, or `operator:<email>` for a member of staff
 * signed in through Cloudflare Access.
 */
export function operatorActor(c: Context<AppEnv>, tenantId: string | null = null): AuditActor {
  const own = tenantId === null || tenantId === OPERATOR_ID;
  return { tenantId: own ? OPERATOR_ID : tenantId, ...adminActor(c) };
}

/** The operator's audit identity for a change to one tenant, logged in that tenant's log (whose id may not exist yet). */
export function adminActor(c: Context<AppEnv>): Omit<AuditActor, "tenantId"> {
  return { actor: c.get("operator") ?? "operator", ip: clientIp(c.req.raw.headers), requestId: c.get("requestId") };
}

/** The operation context of an admin twin: the operator acts on `tenant` in `mode`, bound by nothing. */
export function operatorOp(c: Context<AppEnv>, tenant: TenantRow, mode: Mode = "live"): TenantOp {
  return {
    env: c.env,
    config: c.get("config"),
    tenant,
    mode,
    caller: { operator: true },
    who: operatorActor(c, tenant.id),
  };
}
