import { and, eq, gte, sql } from "drizzle-orm";
import type { Db } from "./client";
import { deliveryAttempts } from "./schema";

/**
 * Attempts of one subscription since `start`, counted per bucket of
 * `bucketMs` (bucket 0 starts at `start`), test sends excluded. Only the
 * buckets that had attempts come back; success is an attempt without error.
 */
export async function attemptCountsByBucket(db: Db, webhookId: string, start: number, bucketMs: number) {
  const bucket = sql<number>`CAST((${deliveryAttempts.at} - ${start}) / ${bucketMs} AS INTEGER)`;
  return db
    .select({
      bucket,
      succeeded: sql<number>`SUM(CASE WHEN ${deliveryAttempts.error} IS NULL THEN 1 ELSE 0 END)`,
      failed: sql<number>`SUM(CASE WHEN ${deliveryAttempts.error} IS NULL THEN 0 ELSE 1 END)`,
    })
    .from(deliveryAttempts)
    .where(and(eq(deliveryAttempts.webhookId, webhookId), gte(deliveryAttempts.at, new Date(start)), eq(deliveryAttempts.isTest, false)))
    .groupBy(bucket)
    .all();
}
