import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { MODES } from "../common/enums";
import { USAGE_GRANULARITIES } from "../common/usage";

/**
 * Requests per credential by outcome, in minute, hour and day buckets (`start`: the bucket's
 * first millisecond, UTC). Isolates add up and write deltas here at most every 10 s, never a
 * write per request; buckets past their horizon (60 minutes, 48 hours, 90 days) are pruned.
 * Listed in drizzle.config.ts beside schema.ts.
 */
export const usageCounts = sqliteTable(
  "usage_counts",
  {
    credentialId: text("credential_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    mode: text("mode", { enum: MODES }).notNull().default("live"),
    granularity: text("granularity", { enum: USAGE_GRANULARITIES }).notNull(),
    start: integer("start").notNull(),
    ok: integer("ok").notNull().default(0),
    clientErrors: integer("client_errors").notNull().default(0),
    rateLimited: integer("rate_limited").notNull().default(0),
    serverErrors: integer("server_errors").notNull().default(0),
    /** Non-2xx answers sent to the request-error log: tells its reads which days hold any. */
    errorsLogged: integer("errors_logged").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.credentialId, t.granularity, t.start] }),
    index("usage_counts_tenant").on(t.tenantId, t.granularity, t.start),
    index("usage_counts_granularity_start").on(t.granularity, t.start),
  ],
);
