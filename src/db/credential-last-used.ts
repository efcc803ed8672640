import { eq } from "drizzle-orm";
import { createDb } from "./client";
import { apiKeys, oauthClients } from "./schema";

/**
 * Writes a credential's `lastUsedAt`; called from the credential's Durable
 * Object alarm (at most once a minute), never per request. Request counts
 * live in `usage_counts` (src/db/usage-counts.ts).
 */
export async function recordLastUsed(d1: D1Database, credentialId: string, lastUsedAt: number): Promise<void> {
  const table = credentialId.startsWith("cli_") ? oauthClients : apiKeys;
  await createDb(d1)
    .update(table)
    .set({ lastUsedAt: new Date(lastUsedAt) })
    .where(eq(table.id, credentialId));
}
