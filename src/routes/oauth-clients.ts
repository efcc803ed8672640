import { createRoute, z } from "@hono/zod-openapi";
import { createOAuthClient, deleteOAuthClient, findOAuthClient, listOAuthClients, rotateOAuthClientSecret } from "../auth/oauth-clients";
import type { OAuthClientRow } from "../db/oauth-clients";
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
import { CidrListSchema, FutureDateSchema, LockedBySchema, ModeSchema, NameSchema, ScopeSchema, ScopesSchema } from "../http/schemas";
import { USAGE_DESCRIPTION, UsageQuery, UsageSeriesSchema, usageSeries } from "../http/usage-schemas";
import { credentialUsage } from "../monitoring/usage";

export const OAuthClientSchema = z
  .object({
    id: z.string().openapi({ example: "cli_9aT2..." }),
    clientId: z.string().openapi({ description: "The OAuth `client_id` (the same as `id`)" }),
    name: z.string(),
    mode: ModeSchema.openapi({ description: "The mode of the credential that created the client; its tokens act in it" }),
    scopes: z.array(ScopeSchema),
    ipAllowlist: z.array(z.string()),
    secretLast4: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    lockedBy: LockedBySchema,
  })
  .openapi("OAuthClient");

const NewOAuthClientSchema = OAuthClientSchema.extend({
  clientSecret: z.string().openapi({ description: "Shown once; store it now." }),
}).openapi("NewOAuthClient");

const CreateClientBody = z
  .strictObject({
    name: NameSchema,
    scopes: ScopesSchema,
    expiresAt: FutureDateSchema.optional(),
    ipAllowlist: CidrListSchema.optional(),
  })
  .openapi("CreateOAuthClient");

export function serializeClient(r: OAuthClientRow) {
  return {
    id: r.id,
    clientId: r.id,
    name: r.name,
    mode: r.mode,
    scopes: r.scopes,
    ipAllowlist: r.ipAllowlist ?? [],
    secretLast4: r.secretLast4,
    createdAt: r.createdAt.toISOString(),
    expiresAt: toIso(r.expiresAt),
    lastUsedAt: toIso(r.lastUsedAt),
    lockedBy: r.lockedBy ?? {},
  };
}

const tags = ["OAuth clients"];
const ClientId = idParam("cli");

const createClientRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an OAuth2 client (client credentials grant)",
  security: tenantSecurity,
  request: jsonBody(CreateClientBody),
  responses: { 201: jsonResponse(NewOAuthClientSchema, "Created"), ...errorResponses, ...conflictResponse },
});

const listClientsRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List OAuth clients",
  security: tenantSecurity,
  request: { query: pageQuery },
  responses: { 200: jsonResponse(listOf(OAuthClientSchema), "A page of clients"), ...errorResponses },
});

const getClientRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Get an OAuth client (never its secret)",
  security: tenantSecurity,
  request: { params: ClientId },
  responses: { 200: jsonResponse(OAuthClientSchema, "The client"), ...errorResponses },
});

export const deleteClientRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an OAuth client; all its tokens stop working at once",
  security: tenantSecurity,
  request: { params: ClientId },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

const rotateClientSecretRoute = createRoute({
  method: "post",
  path: "/{id}/rotate-secret",
  tags,
  summary: "Replace an OAuth client's secret",
  description:
    "The new secret is shown once; the old one stops authenticating token requests at once. Tokens already issued live out their hour.",
  security: tenantSecurity,
  request: { params: ClientId },
  responses: { 200: jsonResponse(NewOAuthClientSchema, "The client with its new secret"), ...errorResponses },
});

const clientUsageRoute = createRoute({
  method: "get",
  path: "/{id}/usage",
  tags,
  summary: "An OAuth client's requests by outcome (minute, hour or day buckets)",
  description: USAGE_DESCRIPTION,
  security: tenantSecurity,
  request: { params: ClientId, query: UsageQuery },
  responses: { 200: jsonResponse(UsageSeriesSchema, "Buckets, newest first"), ...errorResponses },
});

export function oauthClientsRoutes() {
  const app = createRouter();
  // Managing credentials is a `keys` permission, whichever kind of credential.
  app.use("*", requireCredential("keys"), readBody());

  app.openapi(createClientRoute, async (c) => {
    const { row, secret } = await createOAuthClient(tenantOp(c), c.req.valid("json"));
    return c.json({ ...serializeClient(row), clientSecret: secret }, 201);
  });

  app.openapi(listClientsRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(page(await listOAuthClients(tenantOp(c), limit, decodeCursor(cursor)), serializeClient), 200);
  });

  app.openapi(getClientRoute, async (c) => {
    return c.json(serializeClient(await findOAuthClient(tenantOp(c), c.req.valid("param").id)), 200);
  });

  app.openapi(clientUsageRoute, async (c) => {
    const usage = await credentialUsage(tenantOp(c), "oauth_client", c.req.valid("param").id, c.req.valid("query").granularity);
    return c.json(usageSeries(usage), 200);
  });

  app.openapi(deleteClientRoute, async (c) => {
    await deleteOAuthClient(tenantOp(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(rotateClientSecretRoute, async (c) => {
    const { row, secret } = await rotateOAuthClientSecret(tenantOp(c), c.req.valid("param").id);
    return c.json({ ...serializeClient(row), clientSecret: secret }, 200);
  });

  return app;
}
