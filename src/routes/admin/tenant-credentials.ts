import { createRoute, z } from "@hono/zod-openapi";
import { revokeApiKey } from "../../auth/api-keys";
import {
  credentialStatus,
  lockApiKey,
  lockOAuthClient,
  searchTenantClients,
  searchTenantKeys,
  tenantClient,
  tenantKey,
} from "../../auth/credential-support";
import { deleteOAuthClient } from "../../auth/oauth-clients";
import { CREDENTIAL_STATUSES } from "../../db/credential-search";
import type { ApiKeyRow } from "../../db/keys";
import type { OAuthClientRow } from "../../db/oauth-clients";
import { adminSecurity, errorResponses, idParam, jsonBody, jsonResponse, listOf } from "../../http/openapi";
import { decodeCursor, page, pageQuery } from "../../http/pagination";
import { CidrListSchema, FutureDateSchema, ModeSchema } from "../../http/schemas";
import { ApiKeySchema, deleteKeyRoute, serializeKey } from "../keys";
import { deleteClientRoute, OAuthClientSchema, serializeClient } from "../oauth-clients";
import { opOf, tenantScoped, tenantScopedRouter } from "./tenant-scoped";

const tags = ["Operator"];
const as = { security: adminSecurity, tags };

const Status = z
  .enum(["active", "revoked", "expired"])
  .openapi({ description: "revoked: revoked or deleted; a key in its rotation grace is active" });

const SupportKeySchema = ApiKeySchema.extend({ status: Status }).openapi("TenantApiKey");
const SupportClientSchema = OAuthClientSchema.extend({ status: Status, revokedAt: z.string().nullable() }).openapi("TenantOAuthClient");

const emptyAsAbsent = (v: unknown) => (v === "" ? undefined : v);

const SearchQuery = pageQuery.extend({
  status: z.enum(CREDENTIAL_STATUSES).default("all"),
  // An empty value (`?last4=&name=`, as a search form sends them) is no filter.
  name: z.preprocess(emptyAsAbsent, z.string().max(100).optional()).openapi({ description: "Part of the name, any case" }),
  last4: z
    .preprocess(
      emptyAsAbsent,
      z
        .string()
        .regex(/^[A-Za-z0-9]{4}$/, "must be the last 4 characters (letters and digits)")
        .optional(),
    )
    .openapi({ description: "The last 4 characters of the key (of the client secret, for a client)" }),
  mode: ModeSchema.optional().openapi({ description: "Only this mode's (default: both)" }),
});

const LockBody = z
  .strictObject({
    ipAllowlist: CidrListSchema.nullable().optional().openapi({ description: "Set and lock (null: clear and unlock)" }),
    expiresAt: FutureDateSchema.nullable().optional().openapi({ description: "Set and lock (null: clear and unlock)" }),
  })
  .openapi("LockCredential");

const serializeSupportKey = (k: ApiKeyRow) => ({
  ...serializeKey(k),
  status: credentialStatus({ ended: k.revokedAt, expiresAt: k.expiresAt }),
});
const serializeSupportClient = (r: OAuthClientRow) => ({
  ...serializeClient(r),
  status: credentialStatus({ ended: r.deletedAt, expiresAt: r.expiresAt }),
  revokedAt: r.deletedAt?.toISOString() ?? null,
});

function credentialRoutes<S extends z.ZodType>(noun: string, prefix: string, shown: S) {
  const Id = idParam(prefix);
  return {
    list: createRoute({
      method: "get",
      path: "/",
      ...as,
      summary: `Find a tenant's ${noun}s in any state and either mode, by state, name, last 4 characters and mode`,
      request: { query: SearchQuery },
      responses: { 200: jsonResponse(listOf(shown), `A page of ${noun}s, oldest first`), ...errorResponses },
    }),
    get: createRoute({
      method: "get",
      path: "/{id}",
      ...as,
      summary: `Get a tenant's ${noun}, whatever its state (never its secret)`,
      request: { params: Id },
      responses: { 200: jsonResponse(shown, `The ${noun}`), ...errorResponses },
    }),
    lock: createRoute({
      method: "patch",
      path: "/{id}",
      ...as,
      summary: `Restrict a tenant's ${noun} and lock the restriction`,
      description:
        "Each field given is set and locked: the tenant's change of it is 403 `operator_locked`, and what this credential creates " +
        "(or, for a key, rotates into) inherits the lock. `null` clears the restriction and its lock. Audited in both logs.",
      request: { params: Id, ...jsonBody(LockBody) },
      responses: { 200: jsonResponse(shown, `The ${noun}`), ...errorResponses },
    }),
  };
}

/** `/admin/tenants/{tenantId}/keys`: support finds, revokes and locks a tenant's API keys. */
export function adminTenantKeysRoutes() {
  const app = tenantScopedRouter("keys");
  const routes = credentialRoutes("API key", "key", SupportKeySchema);
  app.openapi(tenantScoped(routes.list, "keys"), async (c) => {
    const { limit, cursor, ...search } = c.req.valid("query");
    return c.json(page(await searchTenantKeys(await opOf(c), search, limit, decodeCursor(cursor)), serializeSupportKey), 200);
  });
  app.openapi(tenantScoped(routes.get, "keys"), async (c) =>
    c.json(serializeSupportKey(await tenantKey(await opOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(tenantScoped(routes.lock, "keys"), async (c) =>
    c.json(serializeSupportKey(await lockApiKey(await opOf(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  app.openapi(tenantScoped(deleteKeyRoute, "keys", { ...as, summary: "Revoke a tenant's API key (immediately)" }), async (c) => {
    await revokeApiKey(await opOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}

/** `/admin/tenants/{tenantId}/oauth-clients`: the same for a tenant's OAuth clients. */
export function adminTenantClientsRoutes() {
  const app = tenantScopedRouter("oauth-clients");
  const routes = credentialRoutes("OAuth client", "cli", SupportClientSchema);
  app.openapi(tenantScoped(routes.list, "oauth-clients"), async (c) => {
    const { limit, cursor, ...search } = c.req.valid("query");
    return c.json(page(await searchTenantClients(await opOf(c), search, limit, decodeCursor(cursor)), serializeSupportClient), 200);
  });
  app.openapi(tenantScoped(routes.get, "oauth-clients"), async (c) =>
    c.json(serializeSupportClient(await tenantClient(await opOf(c), c.req.valid("param").id)), 200),
  );
  app.openapi(tenantScoped(routes.lock, "oauth-clients"), async (c) =>
    c.json(serializeSupportClient(await lockOAuthClient(await opOf(c), c.req.valid("param").id, c.req.valid("json"))), 200),
  );
  app.openapi(
    tenantScoped(deleteClientRoute, "oauth-clients", { ...as, summary: "Delete a tenant's OAuth client; its tokens stop at once" }),
    async (c) => {
      await deleteOAuthClient(await opOf(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return app;
}
