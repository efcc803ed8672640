import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** `{read?: {limit, windowSeconds}, write?: {...}}` as stored on tenants and keys. */
export type RateLimitWindow = { limit: number; windowSeconds: number };
export type RateLimits = { read?: RateLimitWindow; write?: RateLimitWindow };
export type Quotas = {
  apiKeys: number;
  oauthClients: number;
  webhooks: number;
  sources: number;
  eventTypes: number;
};

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();

export const tenants = sqliteTable(
  "tenants",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    quotas: text("quotas", { mode: "json" }).$type<Quotas>().notNull(),
    apiAccess: integer("api_access", { mode: "boolean" }).notNull().default(true),
    rateLimits: text("rate_limits", { mode: "json" }).$type<RateLimits>(),
    retrySchedule: text("retry_schedule", { mode: "json" }).$type<number[]>(),
    breakerThreshold: integer("breaker_threshold"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("tenants_name_unique").on(t.name), index("tenants_created").on(t.createdAt, t.id)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** SHA-256 (hex) of the whole key; the key itself is never stored. */
    hash: text("hash").notNull(),
    start: text("start").notNull(),
    last4: text("last4").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    ipAllowlist: text("ip_allowlist", { mode: "json" }).$type<string[]>(),
    rateLimits: text("rate_limits", { mode: "json" }).$type<RateLimits>(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    /** Set on DELETE (now) or rotation (now + grace); the key fails from then on. */
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    rotatedToId: text("rotated_to_id"),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("api_keys_hash_unique").on(t.hash),
    index("api_keys_tenant_created").on(t.tenantId, t.createdAt, t.id),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
    /** Credential id (`key_...`, `cli_...`) or `admin` for the operator API. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target").notNull(),
    ip: text("ip"),
    requestId: text("request_id").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_log_tenant_at").on(t.tenantId, t.at, t.id)],
);


export const oauthClients = sqliteTable(
  "oauth_clients",
  {
    /** Also the OAuth `client_id`. */
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** SHA-256 (hex) of the client secret (256 bits of entropy, so no slow hash is needed). */
    secretHash: text("secret_hash").notNull(),
    secretLast4: text("secret_last4").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    ipAllowlist: text("ip_allowlist", { mode: "json" }).$type<string[]>(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    /** Set on DELETE; every token of the client stops working at once. */
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("oauth_clients_tenant_created").on(t.tenantId, t.createdAt, t.id)],
);

/** Requests per credential per UTC day, flushed from the credential's Durable Object. */
export const credentialUsage = sqliteTable(
  "credential_usage",
  {
    credentialId: text("credential_id").notNull(),
    day: text("day").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.credentialId, t.day] })],
);
