import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "./client";
import { apiKeys, oauthClients } from "./schema";

/** The names of a tenant's keys and OAuth clients among `ids`, in any state (a revoked key still named its actions). */
export async function credentialNames(db: Db, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  const keyIds = ids.filter((id) => id.startsWith("key_"));
  const clientIds = ids.filter((id) => id.startsWith("cli_"));
  const [keys, clients] = await Promise.all([
    keyIds.length === 0
      ? []
      : db
          .select({ id: apiKeys.id, name: apiKeys.name })
          .from(apiKeys)
          .where(and(eq(apiKeys.tenantId, tenantId), inArray(apiKeys.id, keyIds)))
          .all(),
    clientIds.length === 0
      ? []
      : db
          .select({ id: oauthClients.id, name: oauthClients.name })
          .from(oauthClients)
          .where(and(eq(oauthClients.tenantId, tenantId), inArray(oauthClients.id, clientIds)))
          .all(),
  ]);
  return new Map([...keys, ...clients].map((r) => [r.id, r.name]));
}
