import type { RateLimits } from "../db/schema";
import type { Bucket, GateResult } from "./credential-limiter";
import type { Window } from "./gcra";
import { policyName } from "./gcra";

export const DEFAULT_LIMITS: Record<Bucket, Window> = {
  read: { limit: 60, windowSeconds: 60 },
  write: { limit: 30, windowSeconds: 60 },
  // Token requests per client: a brute-force guard on /oauth/token.
  token: { limit: 20, windowSeconds: 60 },
};

export const bucketFor = (method: string): Bucket => (method === "GET" || method === "HEAD" ? "read" : "write");

/** Per-credential override, else per-tenant override, else the default. */
export function effectiveWindow(bucket: Bucket, credential: RateLimits | null, tenant: RateLimits | null): Window {
  if (bucket === "token") return DEFAULT_LIMITS.token;
  return credential?.[bucket] ?? tenant?.[bucket] ?? DEFAULT_LIMITS[bucket];
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

export { policyName };
