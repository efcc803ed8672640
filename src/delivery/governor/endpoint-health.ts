/**
 * An endpoint's success rate over the last hour, minute by minute, kept by
 * its governor as attempts are recorded: the degraded alert's measure. The
 * hourly stats (endpoint-stats.ts) bucket by UTC hour, too coarse for "the
 * last 60 minutes"; these rows are at most 60 and dropped as they age.
 */
export const ENDPOINT_HEALTH_SCHEMA = `
CREATE TABLE IF NOT EXISTS recent_outcomes (minute INTEGER PRIMARY KEY, succeeded INTEGER NOT NULL, failed INTEGER NOT NULL);
`;

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
export const DEGRADED_WINDOW_SECONDS = 3_600;
const WINDOW_MINUTES = DEGRADED_WINDOW_SECONDS / 60;
/** Degraded: below this success rate, over at least this many attempts. */
export const DEGRADED_BELOW = 0.9;
export const DEGRADED_MIN_ATTEMPTS = 20;

/** What the degraded alert reports: the rate (0..1) over `attempts` in the last `windowSeconds`. */
export type Degraded = { successRate: number; attempts: number; windowSeconds: number };

/** Successes and failures of the last hour (this minute and the 59 before `now`). */
export function recentOutcomes(sql: SqlStorage, now: number): { succeeded: number; failed: number } {
  const since = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1;
  const row = sql
    .exec("SELECT COALESCE(SUM(succeeded), 0) AS ok, COALESCE(SUM(failed), 0) AS bad FROM recent_outcomes WHERE minute >= ?", since)
    .one();
  return { succeeded: Number(row.ok), failed: Number(row.bad) };
}

/**
 * Counts one attempt in its minute; answers the degraded alert to raise now,
 * if any: the last hour left below 90 % success over at least 20 attempts, while `alertable` (the breaker has not tripped), at most
 * once an hour (the last one's time is kept in the object's storage).
 */
export function noteHealth(storage: DurableObjectStorage, success: boolean, now: number, alertable: boolean): Degraded | null {
  const minute = Math.floor(now / MINUTE_MS);
  storage.sql.exec(
    "INSERT INTO recent_outcomes (minute, succeeded, failed) VALUES (?, ?, ?) ON CONFLICT (minute) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed",
    minute,
    success ? 1 : 0,
    success ? 0 : 1,
  );
  storage.sql.exec("DELETE FROM recent_outcomes WHERE minute <= ?", minute - WINDOW_MINUTES);
  // Any attempt may be the one that brings the count to 20 while the rate is already below.
  if (!alertable) return null;
  const { succeeded, failed } = recentOutcomes(storage.sql, now);
  const attempts = succeeded + failed;
  if (attempts < DEGRADED_MIN_ATTEMPTS || succeeded >= DEGRADED_BELOW * attempts) return null;
  const last = storage.kv.get<number>("degradedAlertAt");
  if (last !== undefined && now - last < HOUR_MS && now >= last) return null;
  storage.kv.put("degradedAlertAt", now);
  return { successRate: Math.round((succeeded / attempts) * 10_000) / 10_000, attempts, windowSeconds: DEGRADED_WINDOW_SECONDS };
}
