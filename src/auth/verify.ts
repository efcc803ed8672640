import { grantedScopes } from "../common/scopes";
import type { Config } from "../config";
import { AuthenticationError, DomainError } from "../lib/errors";
import { productScopeNames } from "../operator/scopes";
import { policyName } from "../ratelimit/gcra";
import { bucketFor, RateLimitedError } from "../ratelimit/limits";
import { admit, identify, type TenantLimitMode } from "./authenticate";

export type VerifyInput = { credential: string; scope?: string; ip?: string; method?: string; cost?: number };

export const VERIFY_CODES = [
  "malformed_credential",
  "unknown_credential",
  "credential_revoked",
  "credential_expired",
  "ip_not_allowed",
  "api_access_disabled",
  "insufficient_scope",
  "rate_limited",
] as const;
export type VerifyCode = (typeof VERIFY_CODES)[number];

export type VerifyResult =
  | {
      valid: true;
      tenantId: string;
      credentialId: string;
      type: "key" | "oauth";
      scopes: string[];
      rateLimit: { policy: string; limit: number; remaining: number; reset: number };
    }
  | { valid: false; code: VerifyCode; retryAfter?: number };

/**
 * Verifies a credential for an API that does not sit behind the gateway
 * (Unkey's verifyKey): the same checks in the same order as a gateway
 * request, and only a valid answer spends `cost` from its rate limit.
 */
export async function verifyCredential(env: Env, config: Config, input: VerifyInput, limitMode?: TenantLimitMode): Promise<VerifyResult> {
  try {
    const identified = await identify(env, config, input.credential, input.ip ?? null, { background: limitMode?.background });
    const product = await productScopeNames(env.DB, limitMode?.background);
    const bucket = bucketFor(input.method ?? "GET");
    const { principal, window, gate } = await admit(
      env,
      identified,
      {
        scope: input.scope ?? null,
        bucket,
        cost: input.cost ?? 1,
        productScopes: product,
      },
      limitMode,
    );
    return {
      valid: true,
      tenantId: principal.tenant.id,
      credentialId: principal.credentialId,
      type: principal.credentialType === "api_key" ? "key" : "oauth",
      scopes: [...grantedScopes(principal.scopes, product)],
      rateLimit: { policy: policyName(bucket, window), limit: window.limit, remaining: gate.remaining, reset: gate.slotSeconds },
    };
  } catch (err) {
    const refused = refusalCode(err);
    if (!refused) throw err;
    return err instanceof RateLimitedError
      ? { valid: false, code: refused, retryAfter: err.extras.retryAfter }
      : { valid: false, code: refused };
  }
}

function refusalCode(err: unknown): VerifyCode | null {
  if (err instanceof AuthenticationError) {
    switch (err.reason) {
      case "missing":
      case "malformed":
        return "malformed_credential";
      case "unknown":
        return "unknown_credential";
      case "revoked":
        return "credential_revoked";
      case "expired":
        return "credential_expired";
    }
  }
  if (err instanceof DomainError && (VERIFY_CODES as readonly string[]).includes(err.code)) return err.code as VerifyCode;
  return null;
}
