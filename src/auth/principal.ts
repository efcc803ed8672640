import type { Mode } from "../common/enums";
import type { RateLimits } from "../db/schema";
import type { TenantRow } from "../db/tenants";
import type { CredentialPolicy } from "../ratelimit/policy";

/** Who is calling, once a tenant credential has been verified. */
export type Principal = {
  tenant: TenantRow;
  credentialId: string;
  credentialType: "api_key" | "oauth_client";
  /** The credential's mode: it sees and changes only this mode's resources. */
  mode: Mode;
  scopes: string[];
  rateLimits: RateLimits | null;
  /** An API key's own restrictions (an OAuth client's are read when needed: see `restrictionsOf`). */
  expiresAt: number | null;
  ipAllowlist: string[] | null;
  /** The caller's address (`CF-Connecting-IP`). */
  ip: string | null;
  /**
   * Set when the request carries a dashboard session token rather than the
   * credential itself: the session acts as `credentialId` (its tenant, its
   * restrictions, its rate limit) with `scopes` (the key's, or a portal
   * link's subset).
   */
  session?: DashboardSession;
};

/** `dashboard`: signed in with an API key; `portal`: opened from a one-time portal link. */
export type DashboardSession = { id: string; kind: "dashboard" | "portal"; expiresAt: number };

/** A credential that passed the checks needing no Durable Object: format, checksum, known. */
export type Identified = { principal: Principal; policy: CredentialPolicy | null };
