import { createRoute, z } from "@hono/zod-openapi";
import { findApiKey, issueApiKey, listApiKeys, revokeApiKey, rotateApiKey, updateApiKey } from "../auth/api-keys";
import { credentialStatus, searchTenantKeys } from "../auth/credential-support";
import { CREDENTIAL_STATUSES } from "../db/credential-search";
import type { ApiKeyRow } from "../db/keys";
import { requireCredential } from "../http/authenticate";
import { tenantOp } from "../http/context";
import { readBody } from "../http/middleware";
import {
  conflictResponse,
  createRouter,
  errorResponses,
  idParam,
  jsonBody,
  jsonResponse,
  listOf,
  tenantSecurity,
  toIso,
} from "../http/openapi";
import { decodeCursor, page, pageQuery } from "../http/pagination";
import {
  CidrListSchema,
  FutureDateSchema,
  LockedBySchema,
  ModeSchema,
  NameSchema,
  RateLimitsSchema,
  ScopeSchema,
  ScopesSchema,
} from "../http/schemas";
import { USAGE_DESCRIPTION, UsageQuery, UsageSeriesSchema, usageSeries } from "../http/usage-schemas";
import { credentialUsage } from "../monitoring/usage";

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_4f8Qm2VxN7pLr1TzK9aB" }),
    name: z.string(),
    start: z.string().openapi({ description: "First 12 characters, for recognising the key" }),
    last4: z.string(),
    mode: ModeSchema,
    scopes: z.array(ScopeSchema),
    ipAllowlist: z.array(z.string()),
    rateLimits: RateLimitsSchema.nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable().openapi({ description: "Set during a rotation grace period: when the key stops working" }),
    lockedBy: LockedBySchema,
    status: z
      .enum(["active", "revoked", "expired"])
      .openapi({ description: "revoked: revoked, or past its rotation grace; a key in its rotation grace is active" }),
  })
  .openapi("ApiKey");

export const NewApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: "The key itself. Shown once; store it now." }),
}).openapi("NewApiKey");

export function serializeKey(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    start: k.start,
    last4: k.last4,
    mode: k.mode,
    scopes: k.scopes,
    ipAllowlist: k.ipAllowlist ?? [],
    rateLimits: k.rateLimits,
    createdAt: k.createdAt.toISOString(),
    expiresAt: toIso(k.expiresAt),
    lastUsedAt: toIso(k.lastUsedAt),
    revokedAt: toIso(k.revokedAt),
    lockedBy: k.lockedBy ?? {},
    status: credentialStatus({ ended: k.revokedAt, expiresAt: k.expiresAt }),
  };
}

/** The key a request is made with is in use now, whatever D1's copy of its last use says (it is written each minute). */
function asSeenBy(callerId: string) {
  const now = new Date().toISOString();
  return (k: ApiKeyRow) => {
    const shown = serializeKey(k);
    return k.id === callerId ? { ...shown, lastUsedAt: now } : shown;
  };
}

const KeyListQuery = pageQuery.extend({
  status: z
    .enum(CREDENTIAL_STATUSES)
    .optional()
    .openapi({ description: "active, revoked, expired or all; absent: every key not revoked (expired ones included)" }),
});

const CreateKeyBody = z
  .strictObject({
    name: NameSchema,
    scopes: ScopesSchema,
    expiresAt: FutureDateSchema.optional(),
    ipAllowlist: CidrListSchema.optional(),
    rateLimits: RateLimitsSchema.optional(),
    mode: ModeSchema.optional().openapi({
      description:
        "Default: the calling credential's mode. A live credential may create keys of either mode; a test one only test keys (403)",
    }),
  })
  .openapi("CreateApiKey");

const PatchKeyBody = z
  .strictObject({
    name: NameSchema.optional(),
    expiresAt: FutureDateSchema.nullable().optional(),
    ipAllowlist: CidrListSchema.nullable().optional(),
    // Present only to refuse it with a message that names the rule.
    scopes: z
      .unknown()
      .refine(() => false, "scopes cannot be changed after creation; create a new key with the scopes you need")
      .optional()
      .openapi({ description: "Not accepted: scopes are fixed at creation", type: "array", deprecated: true }),
  })
  .openapi("UpdateApiKey");

const DEFAULT_GRACE_SECONDS = 3600;

const RotateBody = z
  .strictObject({
    graceSeconds: z.number().int().min(0).max(604_800, "must be at most 604800 (7 days)").default(DEFAULT_GRACE_SECONDS),
  })
  .openapi("RotateApiKey");

const tags = ["API keys"];
const KeyId = idParam("key");

const createKeyRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an API key",
  description:
    'The key can only hold scopes the calling credential holds. The secret is in `key`, shown once. `mode: "test"` makes a test mode key (`<prefix>_test_…`).',
  security: tenantSecurity,
  request: jsonBody(CreateKeyBody),
  responses: { 201: jsonResponse(NewApiKeySchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listKeysRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List API keys",
  description: "Oldest first. `status=revoked` lists the revoked keys (they are never shown otherwise); `all` every key.",
  security: tenantSecurity,
  request: { query: KeyListQuery },
  responses: { 200: jsonResponse(listOf(ApiKeySchema), "A page of keys"), ...errorResponses },
});

const getKeyRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an API key (never its secret)",
  security: tenantSecurity,
  request: { params: KeyId },
  responses: { 200: jsonResponse(ApiKeySchema, "The key"), ...errorResponses },
});

const patchKeyRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary: "Update an API key's name, expiry or IP allowlist",
  security: tenantSecurity,
  request: { params: KeyId, ...jsonBody(PatchKeyBody) },
  responses: { 200: jsonResponse(ApiKeySchema, "The updated key"), ...errorResponses },
});

export const deleteKeyRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Revoke an API key (immediately)",
  security: tenantSecurity,
  request: { params: KeyId },
  responses: { 204: { description: "Revoked" }, ...errorResponses },
});

const rotateKeyRoute = createRoute({
  method: "post",
  path: "/{id}/rotate",
  tags,
  summary: "Rotate an API key",
  description: "Creates a new key with the same name, scopes, allowlist and limits; the old one stops working after `graceSeconds`.",
  security: tenantSecurity,
  request: { params: KeyId, ...jsonBody(RotateBody, false) },
  responses: { 201: jsonResponse(NewApiKeySchema, "The new key"), ...errorResponses, ...conflictResponse },
});

const keyUsageRoute = createRoute({
  method: "get",
  path: "/{id}/usage",
  tags,
  summary: "An API key's requests by outcome (minute, hour or day buckets)",
  description: USAGE_DESCRIPTION,
  security: tenantSecurity,
  request: { params: KeyId, query: UsageQuery },
  responses: { 200: jsonResponse(UsageSeriesSchema, "Buckets, newest first"), ...errorResponses },
});

export function keysRoutes() {
  const app = createRouter();
  app.use("*", requireCredential("keys"), readBody());

  app.openapi(createKeyRoute, async (c) => {
    const { row, key } = await issueApiKey(tenantOp(c), c.req.valid("json"));
    return c.json({ ...serializeKey(row), key }, 201);
  });

  app.openapi(listKeysRoute, async (c) => {
    const { limit, cursor, status } = c.req.valid("query");
    const op = tenantOp(c);
    const keys = status
      ? await searchTenantKeys(op, { status }, limit, decodeCursor(cursor))
      : await listApiKeys(op, limit, decodeCursor(cursor));
    return c.json(page(keys, asSeenBy(c.get("principal").credentialId)), 200);
  });

  app.openapi(getKeyRoute, async (c) => {
    return c.json(asSeenBy(c.get("principal").credentialId)(await findApiKey(tenantOp(c), c.req.valid("param").id)), 200);
  });

  app.openapi(keyUsageRoute, async (c) => {
    const usage = await credentialUsage(tenantOp(c), "api_key", c.req.valid("param").id, c.req.valid("query").granularity);
    return c.json(usageSeries(usage), 200);
  });

  app.openapi(patchKeyRoute, async (c) => {
    const { scopes: _refused, ...patch } = c.req.valid("json");
    return c.json(serializeKey(await updateApiKey(tenantOp(c), c.req.valid("param").id, patch)), 200);
  });

  app.openapi(deleteKeyRoute, async (c) => {
    await revokeApiKey(tenantOp(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(rotateKeyRoute, async (c) => {
    // The body is optional: without one the validator is skipped and its default never applied.
    const { graceSeconds = DEFAULT_GRACE_SECONDS } = c.req.valid("json");
    const { row, key } = await rotateApiKey(tenantOp(c), c.req.valid("param").id, graceSeconds);
    return c.json({ ...serializeKey(row), key }, 201);
  });

  return app;
}
