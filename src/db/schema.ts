import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { LIMIT_MODES, MANAGED_BY, MODES, REPLAY_STATES, type ReplayableStatus, WEBHOOK_FORMATS, WEBHOOK_ORDERINGS } from "../common/enums";

/** `{read?: {limit, windowSeconds}, write?: {...}}` as stored on tenants and keys. */
export type RateLimitWindow = { limit: number; windowSeconds: number };
export type RateLimits = { read?: RateLimitWindow; write?: RateLimitWindow };
/** A credential's restrictions the operator set and its tenant cannot loosen. */
export type OperatorLocks = { ipAllowlist?: "operator"; expiresAt?: "operator" };
/** The per-tenant quotas, declared once: the API schema and the defaults derive from this. */
export const QUOTA_NAMES = ["apiKeys", "oauthClients", "webhooks", "sources", "eventTypes"] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type Quotas = Record<QuotaName, number>;

// The enumerations (statuses, errors, schemes) live in src/common/enums.ts; re-exported so one import serves.
export * from "../common/enums";
// Tables kept in their own files, re-exported so drizzle and one import see every table.
export * from "./schema-branding";
export * from "./schema-operator";
export * from "./schema-usage";
export * from "./schema-versions";

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
    /** Origins allowed to embed the dashboard in an iframe (CSP frame-ancestors); none: framing refused. */
    portalOrigins: text("portal_origins", { mode: "json" }).$type<string[]>(),
    /** How many data-plane objects a day of the tenant's new events is spread over (1..64). */
    dataShards: integer("data_shards").notNull().default(1),
    /** The most it ever had: reads cover every shard that may still hold data. Only grows. */
    maxDataShards: integer("max_data_shards").notNull().default(1),
    /** Earlier counts, kept for the idempotency window: a repeated key still finds its first answer. */
    shardHistory: text("shard_history", { mode: "json" }).$type<{ shards: number; until: number }[]>(),
    limitMode: text("limit_mode", { enum: LIMIT_MODES }).notNull().default("exact"),
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
    /** `live` or `test`: the key sees and makes only its mode's resources. */
    mode: text("mode", { enum: MODES }).notNull().default("live"),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    ipAllowlist: text("ip_allowlist", { mode: "json" }).$type<string[]>(),
    rateLimits: text("rate_limits", { mode: "json" }).$type<RateLimits>(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    /** Set on DELETE (now) or rotation (now + grace); the key fails from then on. */
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    rotatedToId: text("rotated_to_id"),
    lockedBy: text("locked_by", { mode: "json" }).$type<OperatorLocks>(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("api_keys_hash_unique").on(t.hash), index("api_keys_tenant_created").on(t.tenantId, t.createdAt, t.id)],
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
    mode: text("mode", { enum: MODES }).notNull().default("live"), // the creating credential's; its tokens carry it
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    ipAllowlist: text("ip_allowlist", { mode: "json" }).$type<string[]>(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    /** Set on DELETE; every token of the client stops working at once. */
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
    lockedBy: text("locked_by", { mode: "json" }).$type<OperatorLocks>(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("oauth_clients_tenant_created").on(t.tenantId, t.createdAt, t.id)],
);

export const eventTypes = sqliteTable(
  "event_types",
  {
    tenantId: text("tenant_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** Optional JSON Schema that published `data` must satisfy. */
    schema: text("schema", { mode: "json" }).$type<Record<string, unknown>>(),
    deprecated: integer("deprecated", { mode: "boolean" }).notNull().default(false),
    /** The newest of its payload versions (what publishers send); null: an unversioned type. */
    latestVersion: text("latest_version"),
    /** DELETE archives: the type can no longer be published, its history stays. */
    archivedAt: integer("archived_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  // By name alone too: a name is unique across the operator's catalog and every tenant's.
  (t) => [primaryKey({ columns: [t.tenantId, t.name] }), index("event_types_name").on(t.name)],
);

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** The mode of the credential that made it (a source's, a replay's too); an operator endpoint's is `modes` (null: live). */
    mode: text("mode", { enum: MODES }).notNull().default("live"),
    url: text("url").notNull(),
    description: text("description"),
    eventTypes: text("event_types", { mode: "json" }).$type<string[]>().notNull(),
    isEnabled: integer("is_enabled", { mode: "boolean" }).notNull(),
    disabledReason: text("disabled_reason"),
    format: text("format", { enum: WEBHOOK_FORMATS }).notNull(),
    /** AES-GCM (SECRETS_KEY) box of the endpoint's own headers as JSON: their values are secrets (often Authorization). */
    headersEnc: text("headers_enc"),
    /** Each custom header's name and the last 4 characters of its value: what reads show. */
    headerHints: text("header_hints", { mode: "json" }).$type<Record<string, string>>(),
    customFields: text("custom_fields", { mode: "json" }).$type<Record<string, string | number | boolean>>(),
    /** AES-GCM (SECRETS_KEY) ciphertext of the signing secret; never stored in clear. */
    secretEnc: text("secret_enc").notNull(),
    secretLast4: text("secret_last4").notNull(),
    /** The secret before the last rotation, still signing until `previousSecretExpiresAt`. */
    previousSecretEnc: text("previous_secret_enc"),
    previousSecretExpiresAt: integer("previous_secret_expires_at", { mode: "timestamp_ms" }),
    managedBy: text("managed_by", { enum: MANAGED_BY }),
    /** An operator endpoint's tenants (null: every tenant); always null on a tenant's own subscription. */
    tenantIds: text("tenant_ids", { mode: "json" }).$type<string[]>(),
    modes: text("modes", { mode: "json" }).$type<(typeof MODES)[number][]>(),
    /** Only events matching this filter (against `{type, data}`) create deliveries; null: all. */
    filter: text("filter", { mode: "json" }).$type<Record<string, unknown>>(),
    /** Flow control: deliveries per second, and requests in flight, to this endpoint (null: unlimited). */
    rateLimit: integer("rate_limit"),
    maxConcurrency: integer("max_concurrency"),
    /** "key": deliveries of events sharing an orderingKey go one at a time, in order (src/delivery/ordering/sequencer.ts). */
    ordering: text("ordering", { enum: WEBHOOK_ORDERINGS }).notNull().default("none"),
    /** Payload version pin (YYYY-MM-DD): each type's newest version at or before it; null: each type's first version. */
    version: text("version"),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("webhooks_tenant_mode_created").on(t.tenantId, t.mode, t.createdAt, t.id)],
);

// Incoming webhook URLs (their own file, so this one stays readable).
export { sources } from "./schema-sources";

/** One-time links into the embeddable portal: opening one starts a dashboard session, once. */
export const portalLinks = sqliteTable(
  "portal_links",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** SHA-256 (hex) of the link's secret part; the link is shown once. */
    tokenHash: text("token_hash").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    /** The session's lifetime once opened, in seconds. */
    sessionSeconds: integer("session_seconds").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("portal_links_token_hash").on(t.tokenHash), index("portal_links_expires").on(t.expiresAt)],
);

// ---- Bulk replays (src/replays/) ----
/**
 * One bulk replay of an endpoint's deliveries. Its lane (a ReplayLane
 * object per endpoint) runs it and is the source of truth while it runs;
 * this row is its mirror for lookups and lists, rewritten at each step.
 */
export const replays = sqliteTable(
  "replays",
  {
    id: text("id").primaryKey(),
    /** The owner: a tenant, or the operator for its own endpoints. */
    tenantId: text("tenant_id").notNull(),
    mode: text("mode", { enum: MODES }).notNull().default("live"),
    webhookId: text("webhook_id").notNull(),
    state: text("state", { enum: REPLAY_STATES }).notNull(),
    statuses: text("statuses", { mode: "json" }).$type<ReplayableStatus[]>().notNull(),
    eventTypes: text("event_types", { mode: "json" }).$type<string[]>(),
    since: integer("since", { mode: "timestamp_ms" }).notNull(),
    until: integer("until", { mode: "timestamp_ms" }),
    matched: integer("matched").notNull(),
    sent: integer("sent").notNull(),
    succeeded: integer("succeeded").notNull(),
    failed: integer("failed").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("replays_tenant_mode_created").on(t.tenantId, t.mode, t.createdAt, t.id),
    index("replays_webhook_created").on(t.webhookId, t.createdAt, t.id),
  ],
);
