import { ipAllowed } from "../lib/ip";

/**
 * The live, mutable state of one credential: what can change after it was
 * created and must take effect on the very next request everywhere.
 */
export type CredentialPolicy = {
  revokedAt: number | null;
  expiresAt: number | null;
  ipAllowlist: string[] | null;
};

export type PolicyVerdict = "ok" | "revoked" | "expired" | "ip_not_allowed";

export function evaluatePolicy(p: CredentialPolicy, now: number, ip: string | null): PolicyVerdict {
  if (p.revokedAt !== null && p.revokedAt <= now) return "revoked";
  if (p.expiresAt !== null && p.expiresAt <= now) return "expired";
  if (p.ipAllowlist && p.ipAllowlist.length > 0 && !ipAllowed(ip ?? undefined, p.ipAllowlist)) return "ip_not_allowed";
  return "ok";
}
