/**
 * GCRA (generic cell rate algorithm): a sliding limiter with O(1) state.
 * `limit` requests per `windowSeconds` may arrive in a burst, then one slot
 * frees every `window / limit` (a leaky bucket of depth `limit`). It is exact
 * under concurrency: one Durable Object runs each decision to completion
 * before the next, so a burst never gets past the limit, and there is no
 * fixed-window edge at which a second full burst is admitted at once. Over
 * any span of one window, a full burst plus the slots that free during it
 * (at most 2 * limit - 1 requests) can pass: that is the sustained rate.
 */
export type Window = { limit: number; windowSeconds: number };

/**
 * A theoretical arrival time, exactly: `ms + frac / limit` milliseconds since
 * the epoch, `frac` an integer in [0, limit). One slot is `window / limit` ms,
 * rarely a whole number; kept as a float next to an epoch timestamp it loses
 * bits with every request, and a burst of `limit` then stops one short.
 */
export type Tat = readonly [ms: number, frac: number];

export type GcraDecision = {
  allowed: boolean;
  /** Theoretical arrival time to store; unchanged when refused. */
  tat: Tat;
  remaining: number;
  /** Seconds until one more slot frees than are free now (≥ 1). */
  slotSeconds: number;
  /** Seconds until every slot is free again (the IETF `t`). */
  fullResetSeconds: number;
};

const ceilDiv = (a: number, b: number) => Math.floor((a + b - 1) / b);

/**
 * One decision at `now` (integer ms) for a request that spends `cost` slots. All arithmetic is on integers in units
 * of 1/limit ms relative to `now`, so it is exact (well inside 2^53 for any
 * window up to a day and limit up to a million).
 */
export function gcra(previous: Tat | undefined, now: number, w: Window, cost = 1): GcraDecision {
  const { limit } = w;
  const windowMs = w.windowSeconds * 1000;
  // In units of 1/limit ms: one slot is `windowMs` units, the window `windowMs * limit`.
  const interval = windowMs;
  const window = windowMs * limit;
  const since = Array.isArray(previous) ? (previous[0] - now) * limit + previous[1] : 0;
  const tat = Math.max(since, 0);
  const allowed = tat + interval * cost <= window;
  const stored = allowed ? tat + interval * cost : tat;
  // Slots free now: (window - stored) / interval; one more frees each interval.
  const freeUnits = window - stored;
  const remaining = Math.max(0, Math.floor(freeUnits / interval));
  // Admitted: until one more slot frees. Refused: until `cost` slots are free, the earliest retry that can pass.
  const untilNext = allowed ? (remaining + 1) * interval - freeUnits : cost * interval - freeUnits;
  const storedMs = Math.floor(stored / limit);
  return {
    allowed,
    tat: [now + storedMs, stored - storedMs * limit],
    remaining,
    slotSeconds: Math.max(1, ceilDiv(untilNext, 1000 * limit)),
    fullResetSeconds: Math.max(0, ceilDiv(stored, 1000 * limit)),
  };
}

/** `read:60/1m`, `write:100/90s`: the policy string of a 429 problem. */
export function policyName(bucket: string, w: Window): string {
  const s = w.windowSeconds;
  const span = s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;
  return `${bucket}:${w.limit}/${span}`;
}
