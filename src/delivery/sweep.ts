import { createDb } from "../db/client";
import { bumpDue, overdueDeliveries } from "../db/deliveries";
import type { Env } from "../env";
import { enqueueDeliveries } from "./queue";

/** A pending delivery this long past due has lost its message. */
export const OVERDUE_AFTER_MS = 5 * 60_000;
const SWEEP_BATCH = 500;

/**
 * At-least-once repair: re-enqueues pending deliveries long past their due
 * time (a crash between the D1 write and the send, a lost message). Rows in
 * flight are leased into the future by the consumer, so they are skipped;
 * a duplicate that slips through loses the consumer's claim and sends nothing.
 */
export async function sweepOverdueDeliveries(env: Env, now = Date.now()): Promise<number> {
  const db = createDb(env.DB);
  const rows = await overdueDeliveries(db, new Date(now - OVERDUE_AFTER_MS), SWEEP_BATCH);
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await bumpDue(db, ids, new Date(now));
  await enqueueDeliveries(env, rows);
  return rows.length;
}
