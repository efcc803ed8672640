import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type AttemptStats, ENDPOINT_STATS_SCHEMA, pruneAttemptStats, readAttemptStats, recordAttemptStats } from "./endpoint-stats";

export type BreakerState = { consecutiveFailures: number; trippedAt: number | null };

/** An endpoint's flow control: deliveries per second and requests in flight (either may be absent). */
export type FlowLimits = { rateLimit: number | null; maxConcurrency: number | null };

export type Permit = { ok: true; permit: string } | { ok: false; waitMs: number };

type State = BreakerState & {
  /** When the attempts of the last second started (ms, oldest first): at most `rateLimit` of them. */
  recent: number[];
  /** Permits in flight: id -> lease end (ms). A permit whose holder died lapses at its lease end. */
  inFlight: Record<string, number>;
};

const initial = (): State => ({ consecutiveFailures: 0, trippedAt: null, recent: [], inFlight: {} });

// How long to come back after when every concurrency slot is taken and none lapses sooner.
const FULL_RETRY_MS = 250;

/**
 * One object per webhook subscription: its circuit breaker and its flow
 * control. Every attempt of the endpoint is counted here, one at a time, so
 * the breaker's count is exact and trips once, and the pace and the
 * concurrency limit are never exceeded. Waiting for a permit is not an
 * attempt and does not count towards the breaker.
 */
export class EndpointGovernor extends DurableObject<Env> {
  private cached: State | undefined;
  private prunedHour = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(ENDPOINT_STATS_SCHEMA);
  }

  private get state(): State {
    this.cached ??= { ...initial(), ...this.ctx.storage.kv.get<State>("state") };
    return this.cached;
  }

  private save(): void {
    this.ctx.storage.kv.put("state", this.state);
  }

  /**
   * A permit for one attempt now, or how long to wait for one. `leaseMs`
   * bounds how long a permit holds a concurrency slot if its holder never
   * calls `finish` (an isolate that died mid-attempt).
   */
  acquire(limits: FlowLimits, leaseMs: number, now = Date.now()): Permit {
    const s = this.state;
    for (const [id, until] of Object.entries(s.inFlight)) if (until <= now) delete s.inFlight[id];
    if (limits.maxConcurrency !== null) {
      const held = Object.values(s.inFlight);
      if (held.length >= limits.maxConcurrency) {
        this.save();
        return { ok: false, waitMs: Math.max(1, Math.min(FULL_RETRY_MS, Math.min(...held) - now)) };
      }
    }
    if (limits.rateLimit !== null) {
      // A sliding second, exactly: no window of 1000 ms ever holds more than `rateLimit` starts.
      s.recent = s.recent.filter((t) => t > now - 1000);
      if (s.recent.length >= limits.rateLimit) {
        this.save();
        return { ok: false, waitMs: Math.max(1, s.recent[s.recent.length - limits.rateLimit]! + 1000 - now) };
      }
      s.recent.push(now);
    } else if (s.recent.length > 0) {
      s.recent = [];
    }
    const permit = crypto.randomUUID();
    s.inFlight[permit] = now + leaseMs;
    this.save();
    return { ok: true, permit };
  }

  /** Gives a permit back without an attempt (the attempt was claimed by someone else). */
  release(permit: string): void {
    delete this.state.inFlight[permit];
    this.save();
  }

  /**
   * Records one attempt's outcome (and gives its permit back), counting it
   * in the endpoint's stats. `tripped` is true only for the failure that
   * reaches `threshold`: the caller then disables the subscription.
   */
  record(success: boolean, threshold: number, permit?: string, durationMs?: number, now = Date.now()): BreakerState & { tripped: boolean } {
    const s = this.state;
    if (durationMs !== undefined) {
      recordAttemptStats(this.ctx.storage.sql, success, durationMs, now);
      const hour = Math.floor(now / 3_600_000);
      if (hour !== this.prunedHour) {
        pruneAttemptStats(this.ctx.storage.sql, now);
        this.prunedHour = hour;
      }
    }
    if (permit) delete s.inFlight[permit];
    let tripped = false;
    if (success) {
      s.consecutiveFailures = 0;
      s.trippedAt = null;
    } else {
      s.consecutiveFailures++;
      tripped = s.trippedAt === null && s.consecutiveFailures >= threshold;
      if (tripped) s.trippedAt = Date.now();
    }
    this.save();
    return { consecutiveFailures: s.consecutiveFailures, trippedAt: s.trippedAt, tripped };
  }

  /** PATCH isEnabled: true starts the count afresh. */
  reset(): void {
    this.state.consecutiveFailures = 0;
    this.state.trippedAt = null;
    this.save();
  }

  breakerState(): BreakerState {
    return { consecutiveFailures: this.state.consecutiveFailures, trippedAt: this.state.trippedAt };
  }

  /** The endpoint's health: the breaker's count and the attempts of the last 24 h, and the series of one window. */
  stats(window: { start: number; bucketMs: number; count: number }, now = Date.now()): AttemptStats & { consecutiveFailures: number } {
    return { consecutiveFailures: this.state.consecutiveFailures, ...readAttemptStats(this.ctx.storage.sql, window, now) };
  }

  /** Attempts in flight now (for stats and tests). */
  inFlight(now = Date.now()): number {
    return Object.values(this.state.inFlight).filter((until) => until > now).length;
  }
}

export function governorFor(env: Env, webhookId: string): DurableObjectStub<EndpointGovernor> {
  return env.ENDPOINT_GOVERNOR.get(env.ENDPOINT_GOVERNOR.idFromName(webhookId));
}
