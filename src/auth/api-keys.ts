import type { RateLimits } from "../db/schema";
import { insertKeyUnderQuota, type ApiKeyRow } from "../db/keys";
import type { TenantRow } from "../db/tenants";
import { ApiError } from "../errors";
import { newId, sha256Hex } from "../lib/crypto";
import type { Env } from "../env";
import { credentialGate } from "../ratelimit/credential-limiter";
import type { CredentialPolicy } from "../ratelimit/policy";
import { forgetKey } from "./cache";
import { generateApiKey } from "./key-format";

export type NewKeyInput = {
  /** Preassigned id (rotation links the old key to it first). */
  id?: string;
  name: string;
  scopes: string[];
  expiresAt?: Date | null;
  ipAllowlist?: string[] | null;
  rateLimits?: RateLimits | null;
};

export const newKeyId = () => newId("key");

/**
 * Mints a static key for `tenant` within its `apiKeys` quota. Returns the
 * stored row and the key itself, which exists nowhere else after this call.
 */
export async function issueApiKey(
  d1: D1Database,
  keyPrefix: string,
  tenant: TenantRow,
  input: NewKeyInput,
  createdBy: string,
): Promise<{ row: ApiKeyRow; key: string }> {
  const key = generateApiKey(keyPrefix, tenant.id);
  const row: ApiKeyRow = {
    id: input.id ?? newKeyId(),
    tenantId: tenant.id,
    name: input.name,
    hash: await sha256Hex(key),
    start: key.slice(0, 12),
    last4: key.slice(-4),
    scopes: input.scopes,
    ipAllowlist: input.ipAllowlist ?? null,
    rateLimits: input.rateLimits ?? null,
    expiresAt: input.expiresAt ?? null,
    revokedAt: null,
    rotatedToId: null,
    lastUsedAt: null,
    createdBy,
    createdAt: new Date(),
  };
  const inserted = await insertKeyUnderQuota(d1, row, tenant.quotas.apiKeys);
  if (!inserted) {
    throw ApiError.quota("apiKeys", tenant.quotas.apiKeys, "API keys");
  }
  return { row, key };
}

export function keyPolicy(k: Pick<ApiKeyRow, "revokedAt" | "expiresAt" | "ipAllowlist">): CredentialPolicy {
  return {
    revokedAt: k.revokedAt?.getTime() ?? null,
    expiresAt: k.expiresAt?.getTime() ?? null,
    ipAllowlist: k.ipAllowlist,
  };
}

/**
 * Tells the key's Durable Object its new live state, before D1 is written:
 * from then on every isolate's next request sees it, whatever it has cached.
 */
export async function publishKeyPolicy(env: Env, key: ApiKeyRow): Promise<void> {
  await credentialGate(env, key.id).setPolicy(key.id, keyPolicy(key));
  forgetKey(key.id);
}
