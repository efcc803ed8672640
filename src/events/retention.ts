import { createDb } from "../db/client";
import { purgeEventsBefore, purgeIdempotencyBefore, purgeTestAttemptsBefore } from "../db/events";
import { purgeSourceRequestsBefore } from "../db/source-requests";
import type { Config } from "../env";
import { IDEMPOTENCY_WINDOW_MS } from "./publish";

const BATCH = 500;
// Per cron run: at most this many batches, so one run stays short; the next run continues.
const MAX_BATCHES = 20;

/**
 * Deletes events (with deliveries and attempts), test-send logs and source
 * request logs older than EVENT_RETENTION_DAYS, and idempotency records past
 * their 24 h, in bounded batches.
 */
export async function purgeExpiredEvents(d1: D1Database, config: Config, now = Date.now()): Promise<{ events: number }> {
  const db = createDb(d1);
  const cutoff = new Date(now - config.eventRetentionDays * 86_400_000);
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await purgeEventsBefore(db, cutoff, BATCH);
    total += n;
    if (n < BATCH) break;
  }
  for (let i = 0; i < MAX_BATCHES; i++) {
    if ((await purgeTestAttemptsBefore(db, cutoff, BATCH)) < BATCH) break;
  }
  for (let i = 0; i < MAX_BATCHES; i++) {
    if ((await purgeSourceRequestsBefore(db, cutoff, BATCH)) < BATCH) break;
  }
  for (let i = 0; i < MAX_BATCHES; i++) {
    if ((await purgeIdempotencyBefore(db, new Date(now - IDEMPOTENCY_WINDOW_MS), BATCH)) < BATCH) break;
  }
  return { events: total };
}
