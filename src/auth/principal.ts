import type { RateLimits } from "../db/schema";
import type { TenantRow } from "../db/tenants";

/** Who is calling, once a tenant credential has been verified. */
export type Principal = {
  tenant: TenantRow;
  credentialId: string;
  credentialType: "api_key" | "oauth_client";
  scopes: string[];
  rateLimits: RateLimits | null;
  /** An API key's own restrictions (an OAuth client's are read when needed: see `restrictionsOf`). */
  expiresAt: number | null;
  ipAllowlist: string[] | null;
  /** The caller's address (`CF-Connecting-IP`). */
  ip: string | null;
};
