import { createRoute, z } from "@hono/zod-openapi";
import { MAX_DATA_SHARDS } from "../../data/shard-map";
import { LIMIT_MODES, QUOTA_NAMES, type QuotaName } from "../../db/schema";
import type { TenantRow } from "../../db/tenants";
import { requireAdmin } from "../../http/authenticate";
import { adminActor } from "../../http/context";
import { readBody } from "../../http/middleware";
import { adminSecurity, conflictResponse, createRouter, errorResponses, idParam, jsonBody, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page, pageQuery } from "../../http/pagination";
import { NameSchema, RateLimitsSchema } from "../../http/schemas";
import { MAX_PORTAL_ORIGINS } from "../../tenants/portal-origins";
import { changeTenant, createTenant, findTenant, listAllTenants } from "../../tenants/tenants";
import { NewApiKeySchema, serializeKey } from "../keys";
import { alsoInOperatorLog } from "./tenant-scoped";

const LimitModeSchema = z.enum(LIMIT_MODES).openapi({
  description:
    "How the tenant's gateway requests and /admin/verify calls are rate-limited: `exact` (default) asks the credential's object each time; `approximate` decides in the isolate and reconciles in the background (docs/keys-and-limits.md: Limit modes). The /v1 API is always exact.",
});

const quota = z.number().int().min(0).max(100_000);
const QuotasSchema = z
  .strictObject(Object.fromEntries(QUOTA_NAMES.map((name) => [name, quota.optional()])) as Record<QuotaName, z.ZodOptional<typeof quota>>)
  .openapi("Quotas");
const QuotasShown = z.object(Object.fromEntries(QUOTA_NAMES.map((name) => [name, z.number()])) as Record<QuotaName, z.ZodNumber>);

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
  dataShards: z
    .number()
    .int()
    .min(1)
    .max(MAX_DATA_SHARDS)
    .optional()
    .openapi({ description: "Data-plane objects a day of the tenant's new events is spread over (docs/performance.md: Capacity)" }),
  limitMode: LimitModeSchema.optional(),
};

const PortalOriginsSchema = z
  .array(z.string().max(300))
  .max(MAX_PORTAL_ORIGINS, `may hold at most ${MAX_PORTAL_ORIGINS} origins`)
  .openapi({
    description:
      "Origins allowed to embed the dashboard (CSP frame-ancestors): https, or http too where ALLOW_INSECURE_URLS=true. Empty or null: framing refused.",
    example: ["https://app.example.com"],
  });

const CreateTenantBody = z.strictObject({ name: NameSchema, ...TenantSettings }).openapi("CreateTenant");
const PatchTenantBody = z
  .strictObject({ name: NameSchema.optional(), ...TenantSettings, portalOrigins: PortalOriginsSchema.nullable().optional() })
  .openapi("UpdateTenant");

const TenantSchema = z
  .object({
    id: z.string().openapi({ example: "ten_8Jd02kLmQpZx4RtYvB1c" }),
    name: z.string(),
    quotas: QuotasShown,
    apiAccess: z.boolean(),
    rateLimits: RateLimitsSchema.nullable(),
    retrySchedule: z.array(z.number()).nullable().openapi({ description: "Seconds; null = the deployment default" }),
    breakerThreshold: z.number().nullable(),
    portalOrigins: z.array(z.string()).openapi({ description: "Origins that may embed the dashboard; none: framing refused" }),
    dataShards: z.number().int(),
    limitMode: LimitModeSchema,
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
    portalOrigins: t.portalOrigins ?? [],
    dataShards: t.dataShards,
    limitMode: t.limitMode,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const tags = ["Operator"];
const TenantId = idParam("ten");

const createTenantRoute = createRoute({
  method: "post",
  path: "/",
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
  path: "/",
  tags,
  summary: "List tenants, oldest first",
  security: adminSecurity,
  request: {
    query: pageQuery.extend({
      search: z.string().min(1).max(100).optional().openapi({ description: "Part of the name (any case), or a whole tenant id" }),
    }),
  },
  responses: { 200: jsonResponse(listOf(TenantSchema), "A page of tenants"), ...errorResponses },
});

const getTenantRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get a tenant",
  security: adminSecurity,
  request: { params: TenantId },
  responses: { 200: jsonResponse(TenantSchema, "The tenant"), ...errorResponses },
});

const patchTenantRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update a tenant's name, quotas, API access, rate limits, limit mode, retry schedule, breaker threshold or portal origins",
  security: adminSecurity,
  request: { params: TenantId, ...jsonBody(PatchTenantBody) },
  responses: { 200: jsonResponse(TenantSchema, "The updated tenant"), ...errorResponses, ...conflictResponse },
});

/** The operator's tenant administration: `/admin/tenants`. */
export function adminTenantsRoutes() {
  const app = createRouter();
  // Not "*": the tenant-events router shares the /admin/tenants prefix, and its requests must pass the gate once.
  for (const path of ["/", "/:id"]) app.use(path, requireAdmin(), readBody());
  app.use("/:id", alsoInOperatorLog("id"));

  app.openapi(createTenantRoute, async (c) => {
    const { tenant, key } = await createTenant(c.env, c.get("config"), adminActor(c), c.req.valid("json"));
    return c.json({ tenant: serializeTenant(tenant), key: { ...serializeKey(key.row), key: key.key } }, 201);
  });

  app.openapi(listTenantsRoute, async (c) => {
    const { limit, cursor, search } = c.req.valid("query");
    return c.json(page(await listAllTenants(c.env, limit, decodeCursor(cursor), search), serializeTenant), 200);
  });

  app.openapi(getTenantRoute, async (c) => {
    return c.json(serializeTenant(await findTenant(c.env, c.req.valid("param").id)), 200);
  });

  app.openapi(patchTenantRoute, async (c) => {
    const patch = c.req.valid("json");
    const opts = { allowInsecureUrls: c.get("config").allowInsecureUrls };
    return c.json(serializeTenant(await changeTenant(c.env, adminActor(c), c.req.valid("param").id, patch, opts)), 200);
  });

  return app;
}
