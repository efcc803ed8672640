import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The operator's brand: one row (`id` = "default"), absent until the operator sets one. Null
 * columns keep their defaults; the logo is stored as base64 with the type its bytes showed.
 */
export const branding = sqliteTable("branding", {
  id: text("id").primaryKey(),
  productName: text("product_name").notNull(),
  headerPrefix: text("header_prefix"),
  userAgent: text("user_agent"),
  problemTypeBase: text("problem_type_base"),
  accentColor: text("accent_color"),
  logoType: text("logo_type"),
  logoBase64: text("logo_base64"),
  supportUrl: text("support_url"),
  docsUrl: text("docs_url"),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});
