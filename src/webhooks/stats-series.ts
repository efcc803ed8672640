export const STATS_WINDOWS = ["24h", "7d"] as const;
export type StatsWindow = (typeof STATS_WINDOWS)[number];

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The buckets of a window, oldest first, aligned to UTC hours (24h: the 24
 * hours up to and including the current one) or UTC days (7d: today and
 * the 6 days before).
 */
export function seriesBuckets(window: StatsWindow, now: number): { start: number; bucketMs: number; count: number } {
  const bucketMs = window === "24h" ? HOUR : DAY;
  const count = window === "24h" ? 24 : 7;
  const current = Math.floor(now / bucketMs) * bucketMs;
  return { start: current - (count - 1) * bucketMs, bucketMs, count };
}
