import type { RateLimits } from "../db/schema";
import { DomainError } from "../lib/errors";
import type { Bucket, GateResult } from "./gate-types";
import { policyName, type Window } from "./gcra";

export const DEFAULT_LIMITS: Record<Bucket, Window> = {
  read: { limit: 60, windowSeconds: 60 },
  write: { limit: 30, windowSeconds: 60 },
  // Token requests per client: a brute-force guard on /oauth/token.
  token: { limit: 20, windowSeconds: 60 },
  intake: { limit: 600, windowSeconds: 60 },
};

export const bucketFor = (method: string): Bucket => (method === "GET" || method === "HEAD" ? "read" : "write");

/**
 * The window that applies: the tenant's limits (or the default) are a
 * ceiling, and a credential's own override can only lower them.
 */
export function effectiveWindow(bucket: Bucket, credential: RateLimits | null, tenant: RateLimits | null): Window {
  if (bucket === "token" || bucket === "intake") return DEFAULT_LIMITS[bucket];
  const ceiling = tenant?.[bucket] ?? DEFAULT_LIMITS[bucket];
  const own = credential?.[bucket];
  return own && !exceeds(own, ceiling) ? own : ceiling;
}

/** True when `w` admits more than `ceiling`: a higher sustained rate, or a bigger burst. */
export function exceeds(w: Window, ceiling: Window): boolean {
  return w.limit > ceiling.limit || w.limit * ceiling.windowSeconds > ceiling.limit * w.windowSeconds;
}

/** The tenant's ceiling for each bucket (its override, else the default). */
export function ceilingOf(tenant: RateLimits | null): { read: Window; write: Window } {
  return { read: tenant?.read ?? DEFAULT_LIMITS.read, write: tenant?.write ?? DEFAULT_LIMITS.write };
}

/**
 * The rate-limit headers of one response: the X-RateLimit trio and the IETF
 * draft-ietf-httpapi-ratelimit-headers-11 `RateLimit-Policy` / `RateLimit` pair.
 */
export function rateLimitHeaders(bucket: Bucket, window: Window, result: GateResult): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(window.limit),
    "X-RateLimit-Remaining": String(result.remaining),
    "X-RateLimit-Reset": String(result.slotSeconds),
    "RateLimit-Policy": `"${bucket}";q=${window.limit};w=${window.windowSeconds}`,
    RateLimit: `"${bucket}";r=${result.remaining};t=${result.fullResetSeconds}`,
  };
}

/** The one 429: its problem names the policy and when to retry; its headers are the bucket's. */
export class RateLimitedError extends DomainError {
  constructor(bucket: Bucket, window: Window, result: GateResult, what = `${bucket} requests`) {
    super("rate_limited", `Rate limit exceeded for ${what}; retry in ${result.slotSeconds} s`, {
      policy: policyName(bucket, window),
      retryAfter: result.slotSeconds,
    });
    Object.assign(this.headers, rateLimitHeaders(bucket, window, result));
  }
}

export { policyName };
