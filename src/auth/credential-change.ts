import type { BatchItem } from "drizzle-orm/batch";
import { type AuditActor, type AuditEntry, auditStatement } from "../db/audit";
import { type Db, runBatch } from "../db/client";
import { credentialGate } from "../objects";
import type { CredentialSubject } from "../ratelimit/alert-types";
import type { CredentialPolicy } from "../ratelimit/policy";

/** Whose credential a row is and since when, for its gate's alerts (dormancy of one never used counts from creation). */
export const subjectOf = (row: { tenantId: string; createdAt: Date }): CredentialSubject => ({
  tenantId: row.tenantId,
  createdAt: row.createdAt.getTime(),
});

/**
 * The order every change to a credential's live state follows: its Durable
 * Object first (from then on every isolate's next request sees it, whatever
 * it has cached), then the D1 rows and the audit entry in one batch.
 */
export async function applyCredentialChange(
  env: Env,
  db: Db,
  who: AuditActor,
  change: {
    credentialId: string;
    policy: CredentialPolicy;
    subject?: CredentialSubject;
    statements: BatchItem<"sqlite">[];
    audit: AuditEntry;
  },
): Promise<void> {
  await credentialGate(env, change.credentialId).setPolicy(change.credentialId, change.policy, change.subject);
  await runBatch(db, [...change.statements, auditStatement(db, who, change.audit)]);
}
