/** Longest delay a retry may wait (and the Queue's delaySeconds ceiling): 12 h. */
export const MAX_DELAY_SECONDS = 43_200;
/** Up to this fraction is added to each scheduled delay, so retries of many deliveries spread out. */
export const JITTER = 0.1;

/**
 * Seconds to wait before the next attempt after attempt `attempt` (1-based)
 * failed, or null when the schedule is used up. A `Retry-After` longer than
 * the scheduled delay wins (capped at 12 h).
 */
export function nextRetryDelay(
  schedule: readonly number[],
  attempt: number,
  retryAfterSeconds: number | null = null,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  const jittered = Math.floor(base * (1 + JITTER * random()));
  const delay = Math.max(jittered, Math.min(retryAfterSeconds ?? 0, MAX_DELAY_SECONDS));
  return Math.min(Math.max(delay, 1), MAX_DELAY_SECONDS);
}

/** Attempts in all for a schedule: the first, then one per delay. */
export const totalAttempts = (schedule: readonly number[]) => schedule.length + 1;
