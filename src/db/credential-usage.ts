import { eq, sql } from "drizzle-orm";
import { createDb } from "./client";
import { apiKeys, credentialUsage, oauthClients } from "./schema";

/**
 * Writes a credential's `lastUsedAt` and its per-day request counts (deltas
 * since the last flush) in one transaction; called from the credential's
 * Durable Object alarm, never per request.
 */
export async function recordCredentialUsage(
  d1: D1Database,
  credentialId: string,
  lastUsedAt: number,
  deltas: [day: string, count: number][],
): Promise<void> {
  const db = createDb(d1);
  const table = credentialId.startsWith("cli_") ? oauthClients : apiKeys;
  await db.batch([
    db
      .update(table)
      .set({ lastUsedAt: new Date(lastUsedAt) })
      .where(eq(table.id, credentialId)),
    ...deltas.map(([day, count]) =>
      db
        .insert(credentialUsage)
        .values({ credentialId, day, count })
        .onConflictDoUpdate({
          target: [credentialUsage.credentialId, credentialUsage.day],
          set: { count: sql`${credentialUsage.count} + excluded.count` },
        }),
    ),
  ]);
}
