import { type IssuedKey, issueApiKey } from "../auth/api-keys";
import type { Config } from "../config";
import { nextShardHistory } from "../data/placement";
import { type AuditActor, auditStatement } from "../db/audit";
import { createDb, isUniqueViolation } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import type { LimitMode, Quotas, RateLimits } from "../db/schema";
import {
  DEFAULT_QUOTAS,
  getTenant,
  insertTenant,
  listTenants,
  patchedTenant,
  type TenantPatch,
  type TenantRow,
  updateTenant,
} from "../db/tenants";
import { newId } from "../lib/crypto";
import { ConflictError, NotFoundError } from "../lib/errors";
import { copyToOperatorLog } from "./audit-log";
import { forgetTenant } from "./cache";
import { normalizePortalOrigins } from "./portal-origins";

export type NewTenantInput = {
  name: string;
  quotas?: Partial<Quotas>;
  apiAccess?: boolean;
  rateLimits?: RateLimits | null;
  retrySchedule?: number[] | null;
  breakerThreshold?: number | null;
  dataShards?: number;
  limitMode?: LimitMode;
};

/** The operator's audit identity for a change to one tenant (logged in that tenant's own log). */
const operatorIn = (tenantId: string, who: Omit<AuditActor, "tenantId">): AuditActor => ({ ...who, tenantId });

/**
 * Creates a tenant, then its first API key with every scope (`api:read
 * api:write`); the first key is not bound by the `apiKeys` quota's count.
 */
export async function createTenant(
  env: Env,
  config: Config,
  who: Omit<AuditActor, "tenantId">,
  input: NewTenantInput,
): Promise<{ tenant: TenantRow; key: IssuedKey }> {
  const db = createDb(env.DB);
  const now = new Date();
  const tenant: TenantRow = {
    id: newId("ten"),
    name: input.name,
    quotas: { ...DEFAULT_QUOTAS, ...input.quotas },
    apiAccess: input.apiAccess ?? true,
    rateLimits: input.rateLimits ?? null,
    retrySchedule: input.retrySchedule ?? null,
    breakerThreshold: input.breakerThreshold ?? null,
    portalOrigins: null,
    dataShards: input.dataShards ?? 1,
    maxDataShards: input.dataShards ?? 1,
    shardHistory: null,
    limitMode: input.limitMode ?? "exact",
    createdAt: now,
    updatedAt: now,
  };
  const audit = operatorIn(tenant.id, who);
  try {
    await db.batch([
      insertTenant(db, tenant),
      auditStatement(db, audit, { action: "tenant.created", target: tenant.id, details: { name: tenant.name } }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicateName(input.name);
    throw err;
  }
  const key = await issueApiKey(
    {
      env,
      config,
      tenant: { ...tenant, quotas: { ...tenant.quotas, apiKeys: Math.max(1, tenant.quotas.apiKeys) } },
      mode: "live",
      caller: { operator: true },
      who: audit,
    },
    { name: "Default key", scopes: ["api:read", "api:write"] },
  );
  // The operator's log repeats it, as it does every change the operator makes in a tenant.
  await copyToOperatorLog(env, tenant.id, who.requestId);
  return { tenant, key };
}

/** A page of every tenant, oldest first; with `search`, those whose name holds it (any case) or whose id it is. */
export async function listAllTenants(env: Env, limit: number, after?: Cursor, search?: string): Promise<Page<TenantRow>> {
  return listTenants(createDb(env.DB), limit, after, search);
}

export async function findTenant(env: Env, id: string): Promise<TenantRow> {
  const tenant = await getTenant(createDb(env.DB), id);
  if (!tenant) throw new NotFoundError("Tenant");
  return tenant;
}

export async function changeTenant(
  env: Env,
  who: Omit<AuditActor, "tenantId">,
  id: string,
  patch: TenantPatch,
  opts: { allowInsecureUrls?: boolean } = {},
): Promise<TenantRow> {
  const db = createDb(env.DB);
  const current = await findTenant(env, id);
  if (patch.portalOrigins)
    patch = { ...patch, portalOrigins: normalizePortalOrigins(patch.portalOrigins, opts.allowInsecureUrls ?? false) };
  if (patch.dataShards !== undefined && patch.dataShards !== current.dataShards) {
    // Reads keep covering every shard the tenant ever had; a repeated idempotency key still finds its first answer.
    patch = {
      ...patch,
      maxDataShards: Math.max(current.maxDataShards, patch.dataShards),
      shardHistory: nextShardHistory(current, Date.now()),
    };
  }
  const next = patchedTenant(current, patch);
  try {
    await db.batch([
      updateTenant(db, next),
      auditStatement(db, operatorIn(id, who), { action: "tenant.updated", target: id, details: { fields: Object.keys(patch) } }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err) && patch.name) throw duplicateName(patch.name);
    throw err;
  }
  forgetTenant(id);
  return next;
}

function duplicateName(name: string): ConflictError {
  return new ConflictError("duplicate_name", `A tenant named "${name}" already exists`);
}
