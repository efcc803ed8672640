/**
 * An endpoint's attempt counts and latencies, kept by its governor as
 * attempts are recorded: per UTC hour, outcomes and a latency histogram
 * (1 ms steps below 1 s, 10 ms to 10 s, 100 ms beyond), for 8 days. Stats
 * read a few hundred rows, whatever the traffic.
 */
export const ENDPOINT_STATS_SCHEMA = `
CREATE TABLE IF NOT EXISTS outcomes (hour INTEGER PRIMARY KEY, succeeded INTEGER NOT NULL, failed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS latency (hour INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, bucket));
`;

const HOUR = 3_600_000;
const KEPT_HOURS = 8 * 24;

export const latencyBucket = (ms: number): number => {
  const d = Math.max(0, Math.round(ms));
  if (d < 1_000) return d;
  if (d < 10_000) return d - (d % 10);
  return Math.min(600_000, d - (d % 100));
};

export function recordAttemptStats(sql: SqlStorage, success: boolean, durationMs: number, now: number): void {
  const hour = Math.floor(now / HOUR);
  sql.exec(
    "INSERT INTO outcomes (hour, succeeded, failed) VALUES (?, ?, ?) ON CONFLICT (hour) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed",
    hour,
    success ? 1 : 0,
    success ? 0 : 1,
  );
  sql.exec(
    "INSERT INTO latency (hour, bucket, n) VALUES (?, ?, 1) ON CONFLICT (hour, bucket) DO UPDATE SET n = n + 1",
    hour,
    latencyBucket(durationMs),
  );
}

/** Drops the hours past what any window shows. */
export function pruneAttemptStats(sql: SqlStorage, now: number): void {
  const oldest = Math.floor(now / HOUR) - KEPT_HOURS;
  sql.exec("DELETE FROM outcomes WHERE hour < ?", oldest);
  sql.exec("DELETE FROM latency WHERE hour < ?", oldest);
}

/** Delivered vs failed attempts in one bucket of a window (an hour, a day), from `start` (ISO). */
export type SeriesPoint = { start: string; succeeded: number; failed: number };

export type AttemptStats = {
  attempts24h: number;
  successRate24h: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  series: SeriesPoint[];
};

/** The last 24 hours (this hour and the 23 before) and the series of one window (`start`, `bucketMs`, `count`). */
export function readAttemptStats(sql: SqlStorage, window: { start: number; bucketMs: number; count: number }, now: number): AttemptStats {
  const since = Math.floor(now / HOUR) - 23;
  const totals = sql
    .exec("SELECT COALESCE(SUM(succeeded), 0) AS ok, COALESCE(SUM(failed), 0) AS bad FROM outcomes WHERE hour >= ?", since)
    .one();
  const ok = Number(totals.ok);
  const attempts = ok + Number(totals.bad);
  const histogram = sql
    .exec("SELECT bucket, SUM(n) AS n FROM latency WHERE hour >= ? GROUP BY bucket ORDER BY bucket", since)
    .toArray()
    .map((r) => ({ bucket: Number(r.bucket), n: Number(r.n) }));
  const total = histogram.reduce((a, h) => a + h.n, 0);
  // The same rank as a sorted list's element ceil(p * n) - 1.
  const percentile = (p: number) => {
    if (total === 0) return null;
    const rank = Math.ceil((p / 100) * total);
    let seen = 0;
    for (const h of histogram) {
      seen += h.n;
      if (seen >= rank) return h.bucket;
    }
    return histogram[histogram.length - 1]!.bucket;
  };
  const series = Array.from({ length: window.count }, (_, i) => ({
    start: new Date(window.start + i * window.bucketMs).toISOString(),
    succeeded: 0,
    failed: 0,
  }));
  const rows = sql.exec("SELECT hour, succeeded, failed FROM outcomes WHERE hour >= ?", Math.floor(window.start / HOUR)).toArray();
  for (const r of rows) {
    const point = series[Math.floor((Number(r.hour) * HOUR - window.start) / window.bucketMs)];
    if (!point) continue;
    point.succeeded += Number(r.succeeded);
    point.failed += Number(r.failed);
  }
  return {
    attempts24h: attempts,
    successRate24h: attempts ? ok / attempts : null,
    p50Ms: percentile(50),
    p95Ms: percentile(95),
    series,
  };
}
