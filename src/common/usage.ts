/**
 * Usage and request errors, declared once for the server, the dashboard and
 * the CLI: the granularities a series comes in, how far back each reaches,
 * and which outcome an HTTP status counts as. Dependency-free.
 */

export const USAGE_GRANULARITIES = ["minute", "hour", "day"] as const;
export type UsageGranularity = (typeof USAGE_GRANULARITIES)[number];

/** Length of one bucket of each granularity, in milliseconds. */
export const GRANULARITY_MS: Record<UsageGranularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** How many buckets of each granularity are kept (and answered): 60 minutes, 48 hours, 90 days. */
export const GRANULARITY_KEPT: Record<UsageGranularity, number> = { minute: 60, hour: 48, day: 90 };

/** `ok` 2xx/3xx, `clientErrors` 4xx but 429, `rateLimited` 429, `serverErrors` 5xx. */
export const USAGE_OUTCOMES = ["ok", "clientErrors", "rateLimited", "serverErrors"] as const;
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

export function outcomeOf(status: number): UsageOutcome {
  if (status === 429) return "rateLimited";
  if (status >= 500) return "serverErrors";
  if (status >= 400) return "clientErrors";
  return "ok";
}

/** One bucket of a usage series, as the API answers it. */
export type UsagePoint = { start: string; total: number } & Record<UsageOutcome, number>;

/** The start (ms) of the bucket of `granularity` that holds `ms` (UTC). */
export const bucketStartOf = (granularity: UsageGranularity, ms: number): number =>
  ms - (((ms % GRANULARITY_MS[granularity]) + GRANULARITY_MS[granularity]) % GRANULARITY_MS[granularity]);

/** `status` filter of the request-error log: a class (`4xx`, `5xx`), a status (`429`, `403`) or an error `code`. */
export const REQUEST_STATUS_CLASSES = ["4xx", "5xx"] as const;

/** A response worth keeping in the request-error log: anything but 2xx (a WebSocket accepted, 101, is a success). */
export const isRequestError = (status: number): boolean => status !== 101 && (status < 200 || status >= 300);
