import type { CredentialPolicy } from "./policy";

/**
 * What a credential's gate tells its tenant's stream (the alerts), by
 * operational event type, with each one's data (the catalog lists them:
 * src/events/operational-types.ts). Times are ISO 8601 UTC strings.
 */
export type CredentialAlerts = {
  "hookgate.credential.limit_approaching": { credentialId: string; bucket: string; limit: number; used: number; windowSeconds: number };
  "hookgate.credential.rate_limited": { credentialId: string; bucket: string; limit: number; windowSeconds: number };
  "hookgate.credential.expiring": { credentialId: string; expiresAt: string };
  /** `lastUsedAt` null: never used (dormancy counted from its creation). */
  "hookgate.credential.dormant": { credentialId: string; lastUsedAt: string | null };
};

export type CredentialAlert = keyof CredentialAlerts;

/** One alert to raise: its type and data, for `tenantId`'s stream. */
export type RaisedAlert = { [T in CredentialAlert]: { tenantId: string; type: T; data: CredentialAlerts[T] } }[CredentialAlert];

/**
 * How the gate raises an alert without knowing who listens (src/wiring.ts
 * makes it an operational event in the tenant's stream). Never throws: an
 * alert must not change a request's outcome.
 */
export type CredentialAlertNotify = (env: Env, alert: RaisedAlert) => Promise<void>;

/**
 * Whose credential the gate guards, and since when: pushed with its policy on
 * create and change, so dormancy of a credential never used counts from its
 * creation. `createdAt` null: not known (an object that learned its tenant
 * from a request).
 */
export type CredentialSubject = { tenantId: string; createdAt: number | null };

/** What the alerts read of the gate's state at a given time. */
export type AlertInputs = { credentialId: string; policy: CredentialPolicy | null; lastUsedAt: number | null };
