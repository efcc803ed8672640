import { DurableObject } from "cloudflare:workers";
import { recordLastUsed } from "../db/credential-last-used";
import type { AlertInputs, CredentialAlertNotify, CredentialSubject } from "./alert-types";
import { charge } from "./approximate/spend";
import { CredentialAlerts } from "./credential-alerts";
import { type GateRequest, type GateResult, type ReconcileRequest, type ReconcileResult, tatKey } from "./gate-types";
import { gcra, type Tat } from "./gcra";
import { type CredentialPolicy, evaluatePolicy, type PolicyVerdict } from "./policy";

// lastUsedAt is written to D1 at most this often, never per request (request counts are the
// isolates' business: src/monitoring/recorder.ts).
const FLUSH_INTERVAL_MS = 60_000;
/**
 * The per-request state is written behind, at most this long after a request changed it: one
 * storage write a second, however busy the credential. The object answers from memory; what a
 * crash between two writes loses is under a second of arrivals (the limit admits that much again).
 */
export const STATE_WRITE_MS = 1_000;

/**
 * Everything that changes per request, in one record (GCRA arrival times,
 * lastUsedAt), kept in memory between requests and written behind, so an
 * eviction loses nothing.
 */
type LimiterState = {
  id: string | null;
  /** GCRA arrival time per `bucket:limit:window` (`test:bucket:limit:window` in test mode). */
  tats: Record<string, Tat>;
  lastUsedAt: number | null;
  /** The lastUsedAt D1 holds (null: none written yet). */
  flushedLastUsedAt?: number | null;
  alarmSet: boolean;
  /** When lastUsedAt last went to D1 (absent: long ago). */
  flushedAt?: number;
};

const emptyState = (): LimiterState => ({ id: null, tats: {}, lastUsedAt: null, alarmSet: false });

/** Live dashboard sessions of one credential: session id → when it ends (ms). */
type Sessions = Record<string, number>;
// A credential keeps at most this many live sessions; a new one ends the one closest to its end.
const MAX_SESSIONS = 500;

/**
 * One object per credential (API key or OAuth client), named by its id: the
 * gate every request with that credential passes. One RPC per request
 * answers "admitted?" for the credential's live state (revoked, expired, IP
 * allowlist) and its rate limit together; the object also counts usage and
 * flushes it to D1 from an alarm.
 */
export class CredentialGate extends DurableObject<Env> {
  private cached: LimiterState | undefined;
  private policyCache: CredentialPolicy | null | undefined;
  private sessionsCache: Sessions | undefined;
  private readonly alerts: CredentialAlerts;
  private writeBehind: ReturnType<typeof setTimeout> | undefined;

  /** `notify`: where the credential's alerts go (the Worker's entry passes the real one; none: no alerts). */
  constructor(ctx: DurableObjectState, env: Env, notify: CredentialAlertNotify | null = null) {
    super(ctx, env);
    this.alerts = new CredentialAlerts(ctx, env, notify);
  }

  private get state(): LimiterState {
    this.cached ??= this.ctx.storage.kv.get<LimiterState>("state") ?? emptyState();
    return this.cached;
  }

  private save(): void {
    clearTimeout(this.writeBehind);
    this.writeBehind = undefined;
    this.ctx.storage.kv.put("state", this.state);
  }

  /** Writes the state within STATE_WRITE_MS (once for every request in between). */
  private saveSoon(): void {
    this.writeBehind ??= setTimeout(() => this.save(), STATE_WRITE_MS);
  }

  private storedPolicy(): CredentialPolicy | null {
    if (this.policyCache === undefined) this.policyCache = this.ctx.storage.kv.get<CredentialPolicy>("policy") ?? null;
    return this.policyCache;
  }

  /** Admission decision for one request; counts it only when it is admitted. */
  check(req: GateRequest): GateResult {
    const now = Date.now();
    if (req.storePolicy && req.policy) this.setPolicy(req.credentialId, req.policy);
    const policy = this.storedPolicy() ?? req.policy;
    const none = { limit: req.window.limit, remaining: 0, slotSeconds: 0, fullResetSeconds: 0 };
    if (!policy) return { verdict: "unknown", ...none };
    const verdict = evaluatePolicy(policy, now, req.ip);
    if (verdict !== "ok") return { verdict, ...none };
    if (req.session && !((this.sessions[req.session] ?? 0) > now)) return { verdict: "session_ended", ...none };
    if (req.refusal) return { verdict: req.refusal, ...none };
    if (req.tenantId) this.alerts.know({ tenantId: req.tenantId, createdAt: null });

    const state = this.state;
    const key = tatKey(req.bucket, req.window, req.mode);
    const decision = gcra(state.tats[key], now, req.window, req.cost ?? 1);
    const result = {
      limit: req.window.limit,
      remaining: decision.remaining,
      slotSeconds: decision.slotSeconds,
      fullResetSeconds: decision.fullResetSeconds,
    };
    this.alerts.afterDecision(
      req.credentialId,
      { bucket: req.bucket, ...req.window, remaining: decision.remaining, allowed: decision.allowed },
      now,
    );
    if (!decision.allowed) return { verdict: "rate_limited", ...result };
    state.tats[key] = decision.tat;
    if (req.countUse !== false) this.recordUse(req.credentialId, now);
    this.saveSoon();
    return { verdict: "ok", ...result };
  }

  /**
   * The approximate limiter's reconciliation (src/ratelimit/approximate/): records what one
   * isolate admitted since its last call (all of it: those requests are already through) and
   * answers the live state and every bucket's arrival time, from which the isolate decides alone
   * until the next call. Usage is counted here, once per call rather than per request.
   */
  reconcile(req: ReconcileRequest): ReconcileResult {
    const now = Date.now();
    const policy = this.storedPolicy() ?? req.policy;
    if (!policy) return { policy: null, tats: {}, now };
    const state = this.state;
    let used = false;
    for (const spend of req.spends) {
      if (spend.cost <= 0) continue;
      state.tats[spend.key] = charge(state.tats[spend.key], now, spend.window, spend.cost);
      used ||= spend.requests > 0;
    }
    if (used) this.recordUse(req.credentialId, now);
    if (req.spends.length > 0) this.save();
    this.alerts.afterSpends(req.credentialId, req.spends, state.tats, now);
    return { policy, tats: { ...state.tats }, now };
  }

  /**
   * Stores the credential's current policy (after create, PATCH, DELETE,
   * rotate), and whose it is (`subject`) for its alerts.
   */
  setPolicy(credentialId: string, policy: CredentialPolicy, subject?: CredentialSubject): void {
    // Revocation is final: a writer that read the record before a DELETE (a
    // concurrent PATCH, a token request) must not publish it back to life.
    const revokedAt = earliest(this.storedPolicy()?.revokedAt ?? null, policy.revokedAt);
    this.policyCache = { ...policy, revokedAt };
    this.ctx.storage.kv.put("policy", this.policyCache);
    if (this.state.id !== credentialId) {
      this.state.id = credentialId;
      this.save();
    }
    if (subject) this.alerts.know(subject);
    this.ctx.waitUntil(this.alerts.replan(this.alertInputs(), Date.now()));
  }

  private alertInputs(): AlertInputs {
    return { credentialId: this.state.id ?? "", policy: this.storedPolicy(), lastUsedAt: this.state.lastUsedAt };
  }

  private get sessions(): Sessions {
    this.sessionsCache ??= this.ctx.storage.kv.get<Sessions>("sessions") ?? {};
    return this.sessionsCache;
  }

  /**
   * Starts a dashboard session of this credential, ending at `expiresAt`,
   * unless the credential itself is no longer live (the verdict says why).
   * `policy` is the credential's as just read from D1: it becomes the
   * object's own if it has none yet, so every request of the session is
   * judged on the object's copy alone.
   */
  startSession(
    credentialId: string,
    policy: CredentialPolicy | null,
    session: { id: string; expiresAt: number },
    ip: string | null,
  ): PolicyVerdict | "unknown" {
    const now = Date.now();
    if (policy && this.storedPolicy() === null) this.setPolicy(credentialId, policy);
    const live = this.storedPolicy();
    if (!live) return "unknown";
    const verdict = evaluatePolicy(live, now, ip);
    if (verdict !== "ok") return verdict;
    const kept = Object.entries(this.sessions)
      .filter(([, end]) => end > now)
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_SESSIONS - 1);
    this.sessionsCache = { ...Object.fromEntries(kept), [session.id]: session.expiresAt };
    this.ctx.storage.kv.put("sessions", this.sessionsCache);
    return "ok";
  }

  /** Ends a session now (sign-out); its very next request is refused, in every isolate. */
  endSession(sessionId: string): void {
    if (!(sessionId in this.sessions)) return;
    const { [sessionId]: _ended, ...rest } = this.sessions;
    this.sessionsCache = rest;
    this.ctx.storage.kv.put("sessions", rest);
  }

  /** True while the session is live (started here, not ended, not past its end). */
  isSessionLive(sessionId: string): boolean {
    return (this.sessions[sessionId] ?? 0) > Date.now();
  }

  lastUsedAt(): number | null {
    return this.state.lastUsedAt;
  }

  private recordUse(credentialId: string, now: number): void {
    const state = this.state;
    state.id = credentialId;
    state.lastUsedAt = now;
    if (!state.alarmSet) {
      state.alarmSet = true;
      // The first use after a quiet minute reaches D1 at once (a key just used never reads "Never");
      // uses after it are batched, so D1 still gets at most one write a minute per credential.
      void this.ctx.storage.setAlarm(Math.max(now, (state.flushedAt ?? 0) + FLUSH_INTERVAL_MS));
    }
  }

  /** The one alarm: the usage flush, then the alerts due (expiring, dormant), which set it again for the next. */
  override async alarm(): Promise<void> {
    await this.flushUsage();
    await this.alertAlarm();
  }

  /** The alerts' part of the alarm at a given time (the tests drive it with a clock of their own). */
  private async alertAlarm(now = Date.now()): Promise<void> {
    await this.alerts.onAlarm(this.alertInputs(), now);
  }

  /** Writes lastUsedAt to D1 when it moved since the last write; a throw makes the runtime retry. */
  private async flushUsage(): Promise<void> {
    const state = this.state;
    state.alarmSet = false;
    this.save();
    const { id, lastUsedAt } = state;
    if (!id || lastUsedAt === null || lastUsedAt === state.flushedLastUsedAt) return;
    await recordLastUsed(this.env.DB, id, lastUsedAt);
    state.flushedAt = Date.now();
    // A use while the write was in flight has set the next alarm itself (recordUse).
    state.flushedLastUsedAt = lastUsedAt;
    this.save();
  }
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
