import { defineConfig } from "drizzle-kit";

// Migrations are generated from src/db/schema.ts into migrations/ and applied
// by `wrangler d1 migrations apply` (locally by `npm start` and the tests).
export default defineConfig({
  dialect: "sqlite",
  // Every table, including those kept in files of their own beside it (src/db/schema.ts re-exports them).
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
