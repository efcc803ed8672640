import type { OAuthClientRow } from "../db/oauth-clients";
import { insertClientUnderQuota } from "../db/oauth-clients";
import type { TenantRow } from "../db/tenants";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { newId, randomBase62, sha256Hex } from "../lib/crypto";
import { credentialGate } from "../ratelimit/credential-limiter";
import type { CredentialPolicy } from "../ratelimit/policy";

export type NewClientInput = { name: string; scopes: string[]; expiresAt?: Date | null; ipAllowlist?: string[] | null };

export function clientPolicy(c: Pick<OAuthClientRow, "deletedAt" | "expiresAt" | "ipAllowlist">): CredentialPolicy {
  return {
    revokedAt: c.deletedAt?.getTime() ?? null,
    expiresAt: c.expiresAt?.getTime() ?? null,
    ipAllowlist: c.ipAllowlist,
  };
}

/**
 * Creates an OAuth client within the tenant's `oauthClients` quota and tells
 * its Durable Object the policy that gates its tokens. The secret (43 base62
 * characters, ~256 bits) is returned once and stored as SHA-256 only.
 */
export async function createOAuthClient(
  env: Env,
  tenant: TenantRow,
  input: NewClientInput,
  createdBy: string,
): Promise<{ row: OAuthClientRow; secret: string }> {
  const secret = `hgcs_${randomBase62(43)}`;
  const row: OAuthClientRow = {
    id: newId("cli"),
    tenantId: tenant.id,
    name: input.name,
    secretHash: await sha256Hex(secret),
    secretLast4: secret.slice(-4),
    scopes: input.scopes,
    ipAllowlist: input.ipAllowlist ?? null,
    expiresAt: input.expiresAt ?? null,
    deletedAt: null,
    lastUsedAt: null,
    createdBy,
    createdAt: new Date(),
  };
  if (!(await insertClientUnderQuota(env.DB, row, tenant.quotas.oauthClients))) {
    throw ApiError.quota("oauthClients", tenant.quotas.oauthClients, "OAuth clients");
  }
  await credentialGate(env, row.id).setPolicy(row.id, clientPolicy(row));
  return { row, secret };
}
