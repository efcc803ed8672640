import { createDb } from "../db/client";
import { bumpIfStillOverdue, overdueDeliveries } from "../db/deliveries";
import type { Env } from "../env";
import { enqueueDeliveries } from "./queue";

/** A pending delivery this long past due has lost its message. */
export const OVERDUE_AFTER_MS = 5 * 60_000;
const SWEEP_BATCH = 500;

/**
 * At-least-once repair: re-enqueues pending deliveries long past their due
 * time (a crash between the D1 write and the send, a lost message). Rows in
 * flight are leased into the future by the consumer, so they are skipped;
 * each row is bumped only if it is still the one read (same attempt count,
 * still overdue), so an attempt claimed meanwhile keeps its lease, and a
 * duplicate that slips through loses the consumer's claim and sends nothing.
 */
export async function sweepOverdueDeliveries(env: Env, now = Date.now()): Promise<number> {
  const db = createDb(env.DB);
  const dueBefore = new Date(now - OVERDUE_AFTER_MS);
  const rows = await overdueDeliveries(db, dueBefore, SWEEP_BATCH);
  const bumped: { id: string }[] = [];
  for (const row of rows) {
    if (await bumpIfStillOverdue(db, row, dueBefore, new Date(now))) bumped.push(row);
  }
  if (bumped.length > 0) await enqueueDeliveries(env, bumped);
  return bumped.length;
}
