import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../auth/admin";
import { issueApiKey } from "../auth/api-keys";
import { recordAudit, type AuditActor } from "../db/audit";
import { createDb, isUniqueViolation } from "../db/client";
import { DEFAULT_QUOTAS, getTenant, insertTenant, listTenants, updateTenant, type TenantRow } from "../db/tenants";
import { ApiError } from "../errors";
import { readBody } from "../http/middleware";
import {
  adminSecurity,
  conflictResponse,
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  listOf,
} from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import { NameSchema, RateLimitsSchema } from "../http/schemas";
import { forgetTenant } from "../auth/cache";
import { clientIp } from "../auth/credentials";
import { newId } from "../lib/crypto";
import { NewApiKeySchema, serializeKey } from "./keys";

const quota = z.number().int().min(0).max(100_000);
const QuotasSchema = z
  .strictObject({
    apiKeys: quota.optional(),
    oauthClients: quota.optional(),
    webhooks: quota.optional(),
    sources: quota.optional(),
    eventTypes: quota.optional(),
  })
  .openapi("Quotas");

/** A retry delay: seconds, or a string such as `10s`, `5m`, `2h`; at most 12 h. */
const DelaySchema = z
  .union([z.number().int(), z.string().regex(/^\d+[smh]$/, 'must be seconds or a duration like "30s", "5m", "2h"')])
  .transform((v) => (typeof v === "number" ? v : Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[v.slice(-1) as "s"]))
  .pipe(z.number().int().min(1, "must be at least 1 second").max(43_200, "must be at most 12 h"));

const TenantSettings = {
  quotas: QuotasSchema.optional(),
  apiAccess: z.boolean().optional(),
  rateLimits: RateLimitsSchema.nullable().optional(),
  retrySchedule: z.array(DelaySchema).min(1).max(8, "may hold at most 8 delays").nullable().optional(),
  breakerThreshold: z.number().int().min(1).max(10_000).nullable().optional(),
};

const CreateTenantBody = z.strictObject({ name: NameSchema, ...TenantSettings }).openapi("CreateTenant");
const PatchTenantBody = z.strictObject({ name: NameSchema.optional(), ...TenantSettings }).openapi("UpdateTenant");

const TenantSchema = z
  .object({
    id: z.string().openapi({ example: "ten_8Jd02kLmQpZx4RtYvB1c" }),
    name: z.string(),
    quotas: z.object({
      apiKeys: z.number(),
      oauthClients: z.number(),
      webhooks: z.number(),
      sources: z.number(),
      eventTypes: z.number(),
    }),
    apiAccess: z.boolean(),
    rateLimits: RateLimitsSchema.nullable(),
    retrySchedule: z.array(z.number()).nullable().openapi({ description: "Seconds; null = the deployment default" }),
    breakerThreshold: z.number().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Tenant");

function serializeTenant(t: TenantRow) {
  return {
    id: t.id,
    name: t.name,
    quotas: t.quotas,
    apiAccess: t.apiAccess,
    rateLimits: t.rateLimits ?? null,
    retrySchedule: t.retrySchedule ?? null,
    breakerThreshold: t.breakerThreshold ?? null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const tags = ["Operator"];
const TenantId = idParam("ten");

const createTenant = createRoute({
  method: "post",
  path: "/tenants",
  tags,
  summary: "Create a tenant and its first API key (all scopes)",
  security: adminSecurity,
  request: jsonBody(CreateTenantBody),
  responses: {
    201: jsonResponse(z.object({ tenant: TenantSchema, key: NewApiKeySchema }), "Created"),
    ...errorResponses,
    ...conflictResponse,
  },
});

const listTenantsRoute = createRoute({
  method: "get",
  path: "/tenants",
  tags,
  summary: "List tenants",
  security: adminSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(TenantSchema), "A page of tenants"), ...errorResponses },
});

const getTenantRoute = createRoute({
  method: "get",
  path: "/tenants/{id}",
  tags,
  summary: "Get a tenant",
  security: adminSecurity,
  request: { params: TenantId },
  responses: { 200: jsonResponse(TenantSchema, "The tenant"), ...errorResponses },
});

const patchTenant = createRoute({
  method: "patch",
  path: "/tenants/{id}",
  tags,
  summary: "Update a tenant's name, quotas, API access, rate limits, retry schedule or breaker threshold",
  security: adminSecurity,
  request: { params: TenantId, ...jsonBody(PatchTenantBody) },
  responses: { 200: jsonResponse(TenantSchema, "The updated tenant"), ...errorResponses, ...conflictResponse },
});

function duplicateName(name: string): ApiError {
  return new ApiError("duplicate_name", `A tenant named "${name}" already exists`);
}

export function adminRoutes() {
  const app = createRouter();
  app.use("*", readBody(), requireAdmin());

  const operator = (tenantId: string, c: { get(k: "requestId"): string; req: { raw: Request } }): AuditActor => ({
    tenantId,
    actor: "admin",
    ip: clientIp(c.req.raw.headers),
    requestId: c.get("requestId"),
  });

  app.openapi(createTenant, async (c) => {
    const body = c.req.valid("json");
    const db = createDb(c.env.DB);
    const now = new Date();
    const tenant: TenantRow = {
      id: newId("ten"),
      name: body.name,
      quotas: { ...DEFAULT_QUOTAS, ...body.quotas },
      apiAccess: body.apiAccess ?? true,
      rateLimits: body.rateLimits ?? null,
      retrySchedule: body.retrySchedule ?? null,
      breakerThreshold: body.breakerThreshold ?? null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await insertTenant(db, tenant);
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateName(body.name);
      throw err;
    }
    // The first key is not bound by the apiKeys quota's current count (there is none yet).
    const { row, key } = await issueApiKey(
      c.env.DB,
      c.get("config").keyPrefix,
      { ...tenant, quotas: { ...tenant.quotas, apiKeys: Math.max(1, tenant.quotas.apiKeys) } },
      { name: "Default key", scopes: ["api:read", "api:write"] },
      "admin",
    );
    const who = operator(tenant.id, c);
    await recordAudit(db, who, "tenant.created", tenant.id, { name: tenant.name });
    await recordAudit(db, who, "key.created", row.id, { name: row.name, scopes: row.scopes });
    return c.json({ tenant: serializeTenant(tenant), key: { ...serializeKey(row), key } }, 201);
  });

  app.openapi(listTenantsRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listTenants(createDb(c.env.DB), limit, decodeCursor(cursor));
    return c.json(page(rows, limit, (t) => ({ t: t.createdAt.getTime(), id: t.id }), serializeTenant), 200);
  });

  app.openapi(getTenantRoute, async (c) => {
    const tenant = await getTenant(createDb(c.env.DB), c.req.valid("param").id);
    if (!tenant) throw ApiError.notFound("Tenant");
    return c.json(serializeTenant(tenant), 200);
  });

  app.openapi(patchTenant, async (c) => {
    const db = createDb(c.env.DB);
    const body = c.req.valid("json");
    const current = await getTenant(db, c.req.valid("param").id);
    if (!current) throw ApiError.notFound("Tenant");
    let next: TenantRow;
    try {
      next = await updateTenant(db, current, body);
    } catch (err) {
      if (isUniqueViolation(err) && body.name) throw duplicateName(body.name);
      throw err;
    }
    forgetTenant(current.id);
    await recordAudit(db, operator(current.id, c), "tenant.updated", current.id, { fields: Object.keys(body) });
    return c.json(serializeTenant(next), 200);
  });

  return app;
}
