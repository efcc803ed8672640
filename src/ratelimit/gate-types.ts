import type { Mode } from "../common/enums";
import type { Spend } from "./approximate/spend";
import type { Tat, Window } from "./gcra";
import type { CredentialPolicy, PolicyVerdict } from "./policy";

/**
 * What a credential's gate (src/ratelimit/credential-gate.ts) is asked and
 * answers, apart from the object's class, so callers need not import it.
 */

/** `intake`: requests to a webhook source, limited per source (the object is named by the source id). */
export type Bucket = "read" | "write" | "token" | "intake";

export type GateRequest = {
  credentialId: string;
  /** Whose credential it is, for its alerts (absent for a source's intake gate: no alerts). */
  tenantId?: string;
  bucket: Bucket;
  window: Window;
  /**
   * The mode the request acts in: test mode spends its own buckets (the same
   * numbers), so a live key's dashboard session viewing test data never eats
   * into the key's live budget. Default `live`.
   */
  mode?: Mode;
  /** Slots this request spends (a gateway route's `cost`); default 1. */
  cost?: number;
  /**
   * A refusal the caller already decided without storage (API access off,
   * scope missing). It is reported only after the live state is checked, so
   * a revoked or expired credential hears that first (the documented order),
   * and it spends nothing.
   */
  refusal?: Refusal | null;
  /**
   * The credential's policy as the caller read it (possibly from an isolate
   * cache). Once the object has been told a policy with `setPolicy`, its own
   * copy wins: that is how a revocation reaches every isolate at once.
   * `null` (OAuth tokens): only the object's copy counts.
   */
  policy: CredentialPolicy | null;
  /** Store `policy` as the object's own first (it was just read from D1, the source of truth). */
  storePolicy?: boolean;
  ip: string | null;
  /**
   * A dashboard session of this credential (its id): admitted only while the
   * object holds it live, so signing out ends it everywhere at once.
   */
  session?: string | null;
  /**
   * Count an admitted request as use of the credential (default). Token
   * requests spend the token bucket but are not use: a wrong-secret guess
   * must not make a client look used.
   */
  countUse?: boolean;
};

export type Refusal = "api_access_disabled" | "insufficient_scope";

export type GateResult = {
  verdict: PolicyVerdict | Refusal | "unknown" | "session_ended" | "rate_limited";
  limit: number;
  remaining: number;
  slotSeconds: number;
  fullResetSeconds: number;
};

/**
 * A bucket's arrival time in the object, by bucket and window (a changed
 * limit starts afresh); test mode's buckets are apart from live's.
 */
export const tatKey = (bucket: Bucket, window: Window, mode: Mode = "live") =>
  `${mode === "test" ? "test:" : ""}${bucket}:${window.limit}:${window.windowSeconds}`;

export type ReconcileRequest = {
  credentialId: string;
  /** As in `GateRequest`: the caller's copy, used only while the object has none. */
  policy: CredentialPolicy | null;
  spends: Spend[];
};

export type ReconcileResult = {
  /** The live state (`null`: the object knows no such credential). */
  policy: CredentialPolicy | null;
  /** Every bucket's arrival time, by `tatKey`. */
  tats: Record<string, Tat>;
  /** The object's clock when it answered. */
  now: number;
};
