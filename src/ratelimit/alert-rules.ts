import type { AlertInputs, CredentialAlert, CredentialSubject, RaisedAlert } from "./alert-types";
import type { Bucket } from "./gate-types";

/**
 * When a credential's alerts fire, as pure functions of what its gate knows
 * and a time (src/ratelimit/credential-alerts.ts keeps the state and raises
 * them). Each kind fires at most once an hour per credential; the limit
 * alerts at most once per window of their bucket too.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Notices before expiry, in days: the 7-day notice, then the 1-day one. */
export const EXPIRY_NOTICE_DAYS = [7, 1] as const;
export const DORMANT_AFTER_MS = 30 * DAY_MS;
/** A bucket "approaching" its limit: this many fifths of it used (80 %). */
const APPROACHING_FIFTHS = 4;

export type AlertState = {
  subject: CredentialSubject | null;
  /** When each kind last fired (ms). */
  fired: Partial<Record<CredentialAlert, number>>;
  /** The last expiry notice raised: for which expiry, and how many days before it. */
  expiryNotice: { expiresAt: number; days: number } | null;
  /** The start of the unused stretch (last use, else creation) a dormancy alert was raised for. */
  dormantSince: number | null;
};

export const emptyAlertState = (): AlertState => ({ subject: null, fired: {}, expiryNotice: null, dormantSince: null });

/** When `kind` may fire again: an hour (or `spacingMs`, if longer) after it last did. */
function openAt(state: AlertState, kind: CredentialAlert, spacingMs = 0): number {
  const last = state.fired[kind];
  return last === undefined ? 0 : last + Math.max(HOUR_MS, spacingMs);
}

/** One rate-limit decision of the gate, as the limit alerts see it. */
export type LimitDecision = { bucket: Bucket; limit: number; windowSeconds: number; remaining: number; allowed: boolean };

/**
 * The limit alert one decision raises, if any (and marks it fired in
 * `state`): `rate_limited` at a refusal, `limit_approaching` when an admitted
 * request leaves 80 % or more of the bucket used. Only a credential whose
 * tenant the gate knows raises alerts.
 */
export function limitAlert(state: AlertState, credentialId: string, d: LimitDecision, now: number): RaisedAlert | null {
  const tenantId = state.subject?.tenantId;
  if (!tenantId) return null;
  const windowMs = d.windowSeconds * 1000;
  const base = { credentialId, bucket: d.bucket, limit: d.limit, windowSeconds: d.windowSeconds };
  if (!d.allowed) {
    if (now < openAt(state, "hookgate.credential.rate_limited", windowMs)) return null;
    state.fired["hookgate.credential.rate_limited"] = now;
    return { tenantId, type: "hookgate.credential.rate_limited", data: base };
  }
  const used = d.limit - d.remaining;
  if (used * 5 < d.limit * APPROACHING_FIFTHS) return null;
  if (now < openAt(state, "hookgate.credential.limit_approaching", windowMs)) return null;
  state.fired["hookgate.credential.limit_approaching"] = now;
  return { tenantId, type: "hookgate.credential.limit_approaching", data: { ...base, used } };
}

/**
 * The time-driven alerts due at `now` (expiring, dormant), marked fired in
 * `state`, and when to look again (null: nothing to wait for, e.g. revoked,
 * or a dormancy already reported until the credential is used again).
 */
export function dueAlerts(state: AlertState, inputs: AlertInputs, now: number): { alerts: RaisedAlert[]; nextAt: number | null } {
  const tenantId = state.subject?.tenantId;
  const policy = inputs.policy;
  // A revoked credential (or one rotated away, in its grace) is on its way out: nothing to warn about.
  if (!tenantId || (policy && policy.revokedAt !== null)) return { alerts: [], nextAt: null };
  const alerts: RaisedAlert[] = [];
  const wakes: number[] = [];
  const expiresAt = policy?.expiresAt ?? null;

  if (expiresAt !== null && expiresAt > now) {
    const left = expiresAt - now;
    const sent = state.expiryNotice?.expiresAt === expiresAt ? state.expiryNotice.days : Number.POSITIVE_INFINITY;
    // The notice whose window we are in (the 1-day one inside both); raised once per expiry.
    const current = Math.min(...EXPIRY_NOTICE_DAYS.filter((d) => left <= d * DAY_MS));
    let noticed = sent;
    if (current < sent) {
      const open = openAt(state, "hookgate.credential.expiring");
      if (now >= open) {
        state.fired["hookgate.credential.expiring"] = now;
        state.expiryNotice = { expiresAt, days: current };
        noticed = current;
        alerts.push({
          tenantId,
          type: "hookgate.credential.expiring",
          data: { credentialId: inputs.credentialId, expiresAt: iso(expiresAt) },
        });
      } else {
        wakes.push(open);
      }
    }
    for (const d of EXPIRY_NOTICE_DAYS) if (d < noticed && expiresAt - d * DAY_MS > now) wakes.push(expiresAt - d * DAY_MS);
  }

  const since = inputs.lastUsedAt ?? state.subject?.createdAt ?? null;
  const expired = expiresAt !== null && expiresAt <= now;
  if (since !== null && !expired && state.dormantSince !== since) {
    const due = Math.max(since + DORMANT_AFTER_MS, openAt(state, "hookgate.credential.dormant"));
    if (now >= due) {
      state.fired["hookgate.credential.dormant"] = now;
      state.dormantSince = since;
      const lastUsedAt = inputs.lastUsedAt === null ? null : iso(inputs.lastUsedAt);
      alerts.push({ tenantId, type: "hookgate.credential.dormant", data: { credentialId: inputs.credentialId, lastUsedAt } });
    } else if (expiresAt === null || due < expiresAt) {
      wakes.push(due);
    }
  }
  return { alerts, nextAt: wakes.length > 0 ? Math.min(...wakes) : null };
}

const iso = (ms: number) => new Date(ms).toISOString();
