import type { RateLimits } from "../db/schema";
import type { TenantRow } from "../db/tenants";

/** Who is calling, once a tenant credential has been verified. */
export type Principal = {
  tenant: TenantRow;
  credentialId: string;
  credentialType: "api_key" | "oauth_client";
  scopes: string[];
  rateLimits: RateLimits | null;
  ip: string | null;
};
