import { defineConfig } from "drizzle-kit";

// Migrations are generated from src/db/schema.ts into migrations/ and applied
// by `wrangler d1 migrations apply` (locally by `npm start` and the tests).
export default defineConfig({
  dialect: "sqlite",
  // The tables in src/db/schema.ts, and those kept in files of their own beside it.
  schema: ["./src/db/schema.ts", "./src/db/schema-branding.ts", "./src/db/schema-usage.ts"],
  out: "./migrations",
});
