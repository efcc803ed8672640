import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { MODES, type SourceDedupe, type SourceResponse, type SourceVerification } from "../common/enums";

/** Incoming webhook URLs: each request to `/in/<id>/<token>` is verified, mapped and published. */
export const sources = sqliteTable(
  "sources",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    mode: text("mode", { enum: MODES }).notNull().default("live"),
    name: text("name").notNull(),
    /** A catalog name, or a template such as `github.{{headers.x-github-event}}`. */
    eventType: text("event_type").notNull(),
    verification: text("verification", { mode: "json" }).$type<SourceVerification>(),
    /** AES-GCM box of the verification's secret fields as JSON (secret, password, verifyToken); never returned. */
    secretEnc: text("secret_enc"),
    secretLast4: text("secret_last4"),
    mapping: text("mapping", { mode: "json" }).$type<unknown>(),
    /** The published event's orderingKey: a template such as `{{trigger.customer.id}}` (null: no key). */
    orderingKey: text("ordering_key"),
    dedupe: text("dedupe", { mode: "json" }).$type<SourceDedupe>(),
    response: text("response", { mode: "json" }).$type<SourceResponse>(),
    /** Requests per minute this URL accepts. */
    rateLimit: integer("rate_limit").notNull(),
    isEnabled: integer("is_enabled", { mode: "boolean" }).notNull(),
    /** SHA-256 (hex) of the URL's token; the token is shown once. */
    tokenHash: text("token_hash").notNull(),
    /** The token before the last rotation, accepted until `previousTokenExpiresAt`. */
    previousTokenHash: text("previous_token_hash"),
    previousTokenExpiresAt: integer("previous_token_expires_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    index("sources_tenant_mode_created").on(t.tenantId, t.mode, t.createdAt, t.id),
    uniqueIndex("sources_tenant_mode_name_live").on(t.tenantId, t.mode, t.name).where(sql`deleted_at IS NULL`),
  ],
);
