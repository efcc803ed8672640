import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The operator's product scopes (the whole list is replaced at once); `position` keeps the order given. */
export const productScopes = sqliteTable("product_scopes", {
  name: text("name").primaryKey(),
  description: text("description"),
  position: integer("position").notNull(),
});

export type GatewayRoute = { method: string; path: string; scope: string | null; cost: number };

/** The edge gateway's one configuration row (`id` = "default"). */
export const gatewayConfig = sqliteTable("gateway_config", {
  id: text("id").primaryKey(),
  origin: text("origin").notNull(),
  hosts: text("hosts", { mode: "json" }).$type<string[]>().notNull(),
  routes: text("routes", { mode: "json" }).$type<GatewayRoute[]>().notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
