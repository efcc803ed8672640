import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { PatchOperation } from "../common/enums";

/**
 * An event type's payload versions, oldest first by `version` (a date,
 * YYYY-MM-DD). `downgrade` turns a payload of this version into the previous
 * version's; the first version has none.
 */
export const eventTypeVersions = sqliteTable(
  "event_type_versions",
  {
    tenantId: text("tenant_id").notNull(),
    typeName: text("type_name").notNull(),
    version: text("version").notNull(),
    schema: text("schema", { mode: "json" }).$type<Record<string, unknown>>(),
    downgrade: text("downgrade", { mode: "json" }).$type<PatchOperation[]>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.typeName, t.version] })],
);
