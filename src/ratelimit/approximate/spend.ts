import type { Tat, Window } from "../gcra";

/**
 * What the approximate limiter and a credential's object exchange when they
 * reconcile (src/ratelimit/approximate/). Kept apart from the object's class,
 * so the isolate side imports only these shapes.
 */

/** Slots one isolate spent from one bucket since its last reconciliation, and what it refused. */
export type Spend = {
  /** The bucket's key in the object (`tatKey`): the bucket and its window. */
  key: string;
  window: Window;
  /** Slots spent (the sum of the admitted requests' costs). */
  cost: number;
  /** Requests admitted (counted as use of the credential). */
  requests: number;
  /** Requests the isolate refused with 429 from this bucket (the object raises `rate_limited` for them); absent: none. */
  refused?: number;
};

/**
 * `tat` past `now`, by `cost` slots, whether or not they fit: the isolate
 * already admitted these requests, so the object records them all; a
 * bucket pushed past its limit (several isolates over-admitting at once)
 * admits that much less afterwards, which keeps the long-run rate exact.
 * Same units as `gcra` (1/limit ms).
 */
export function charge(previous: Tat | undefined, now: number, w: Window, cost: number): Tat {
  const { limit } = w;
  const since = Array.isArray(previous) ? (previous[0] - now) * limit + previous[1] : 0;
  // At most two windows ahead: a burst of stale isolates must not lock a bucket for long.
  const stored = Math.min(Math.max(since, 0) + w.windowSeconds * 1000 * cost, 2 * w.windowSeconds * 1000 * limit);
  const storedMs = Math.floor(stored / limit);
  return [now + storedMs, stored - storedMs * limit];
}
