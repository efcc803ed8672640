/**
 * How fast each endpoint has been answering, as this isolate saw it: an
 * exponentially weighted mean of recent attempts' durations. An endpoint
 * slower than SLOW_MS (or one that just timed out) gets its first attempts
 * through the queue for a while, so it cannot hold a publisher's few
 * outbound connections; the queue's consumer isolates absorb the wait
 * instead. What this isolate has not seen for FORGET_MS counts as fast again.
 */
export const SLOW_MS = 1_000;
const FORGET_MS = 60_000;
const WEIGHT = 0.3;
const MAX_TRACKED = 5_000;

const seen = new Map<string, { mean: number; at: number }>();

export function noteDuration(webhookId: string, ms: number, timedOut: boolean, now = Date.now()): void {
  const previous = seen.get(webhookId);
  const fresh = previous && now - previous.at < FORGET_MS ? previous.mean : undefined;
  const mean = timedOut ? Math.max(ms, SLOW_MS * 10) : fresh === undefined ? ms : fresh + WEIGHT * (ms - fresh);
  seen.delete(webhookId);
  if (seen.size >= MAX_TRACKED) seen.delete(seen.keys().next().value as string);
  seen.set(webhookId, { mean, at: now });
}

export function isSlow(webhookId: string, now = Date.now()): boolean {
  const s = seen.get(webhookId);
  return s !== undefined && now - s.at < FORGET_MS && s.mean > SLOW_MS;
}
