import { createRoute, z } from "@hono/zod-openapi";
import { auditActor, requireCredential } from "../auth/authenticate";
import { clientPolicy, createOAuthClient } from "../auth/oauth-clients";
import { assertCanGrant } from "../auth/scopes";
import { recordAudit } from "../db/audit";
import { createDb } from "../db/client";
import { getClient, listClients, markClientDeleted, type OAuthClientRow } from "../db/oauth-clients";
import { ApiError } from "../errors";
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
import { CidrListSchema, FutureDateSchema, NameSchema, ScopeSchema, ScopesSchema } from "../http/schemas";
import { credentialGate } from "../ratelimit/credential-limiter";

const OAuthClientSchema = z
  .object({
    id: z.string().openapi({ example: "cli_9aT2..." }),
    clientId: z.string().openapi({ description: "The OAuth `client_id` (the same as `id`)" }),
    name: z.string(),
    scopes: z.array(ScopeSchema),
    ipAllowlist: z.array(z.string()),
    secretLast4: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
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

function serializeClient(r: OAuthClientRow) {
  return {
    id: r.id,
    clientId: r.id,
    name: r.name,
    scopes: r.scopes as z.infer<typeof ScopeSchema>[],
    ipAllowlist: r.ipAllowlist ?? [],
    secretLast4: r.secretLast4,
    createdAt: r.createdAt.toISOString(),
    expiresAt: toIso(r.expiresAt),
    lastUsedAt: toIso(r.lastUsedAt),
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

const deleteClientRoute = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an OAuth client; all its tokens stop working at once",
  security: tenantSecurity,
  request: { params: ClientId },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});

export function oauthClientsRoutes() {
  const app = createRouter();
  // Managing credentials is a `keys` permission, whichever kind of credential.
  app.use("*", readBody(), requireCredential("keys"));

  app.openapi(createClientRoute, async (c) => {
    const principal = c.get("principal");
    const body = c.req.valid("json");
    assertCanGrant(principal.scopes, body.scopes);
    const { row, secret } = await createOAuthClient(c.env, principal.tenant, body, principal.credentialId);
    await recordAudit(createDb(c.env.DB), auditActor(principal, c.get("requestId")), "oauth_client.created", row.id, {
      name: row.name,
      scopes: row.scopes,
    });
    return c.json({ ...serializeClient(row), clientSecret: secret }, 201);
  });

  app.openapi(listClientsRoute, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await listClients(createDb(c.env.DB), c.get("principal").tenant.id, limit, decodeCursor(cursor));
    return c.json(page(rows, limit, (r) => ({ t: r.createdAt.getTime(), id: r.id }), serializeClient), 200);
  });

  app.openapi(getClientRoute, async (c) => {
    const row = await getClient(createDb(c.env.DB), c.get("principal").tenant.id, c.req.valid("param").id);
    if (!row) throw ApiError.notFound("OAuth client");
    return c.json(serializeClient(row), 200);
  });

  app.openapi(deleteClientRoute, async (c) => {
    const principal = c.get("principal");
    const db = createDb(c.env.DB);
    const { id } = c.req.valid("param");
    const row = await getClient(db, principal.tenant.id, id);
    if (!row) throw ApiError.notFound("OAuth client");
    const at = new Date();
    // The object first: from this moment no token of the client is admitted anywhere.
    await credentialGate(c.env, id).setPolicy(id, clientPolicy({ ...row, deletedAt: at }));
    await markClientDeleted(db, principal.tenant.id, id, at);
    await recordAudit(db, auditActor(principal, c.get("requestId")), "oauth_client.deleted", id, { name: row.name });
    return c.body(null, 204);
  });

  return app;
}
