import type { BatchItem } from "drizzle-orm/batch";
import { type AuditActor, type AuditEntry, auditStatement } from "../db/audit";
import { type Db, runBatch } from "../db/client";
import { credentialGate } from "../objects";
import type { CredentialPolicy } from "../ratelimit/policy";

/**
 * The order every change to a credential's live state follows: its Durable
 * Object first (from then on every isolate's next request sees it, whatever
 * it has cached), then the D1 rows and the audit entry in one batch.
 */
export async function applyCredentialChange(
  env: Env,
  db: Db,
  who: AuditActor,
  change: { credentialId: string; policy: CredentialPolicy; statements: BatchItem<"sqlite">[]; audit: AuditEntry },
): Promise<void> {
  await credentialGate(env, change.credentialId).setPolicy(change.credentialId, change.policy);
  await runBatch(db, [...change.statements, auditStatement(db, who, change.audit)]);
}
