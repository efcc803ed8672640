import { DurableObject } from "cloudflare:workers";
import { objectOfId } from "../../data/placement";
import { shardStub } from "../../objects";
import { BreakerHold } from "../breaker/breaker-hold";
import {
  afterFailedProbe,
  type BreakerPlan,
  type BreakerView,
  breakerView,
  type HeldRef,
  type HoldCause,
  type NewHold,
  openHold,
  stopProbing,
} from "../breaker/breaker-schedule";
import {
  clearLines,
  confirm,
  decide,
  NEXT_RECHECK_MS,
  type Place,
  register,
  release,
  sqlTurnStore,
  TURNS_SCHEMA,
  type TurnRequest,
  type TurnStore,
  type WakeTarget,
} from "../ordering/sequencer";
import type { PortsFor } from "../ports";
import { type Degraded, ENDPOINT_HEALTH_SCHEMA, noteHealth } from "./endpoint-health";
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
  private readonly breaker: BreakerHold;

  /** `portsFor`: how the alarm's give-up reports the deliveries it fails (the Worker's entry passes the real one). */
  constructor(ctx: DurableObjectState, env: Env, portsFor: PortsFor) {
    super(ctx, env);
    ctx.storage.sql.exec(ENDPOINT_STATS_SCHEMA + ENDPOINT_HEALTH_SCHEMA);
    this.breaker = new BreakerHold(ctx.storage, portsFor);
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
   * reaches `threshold`: the caller then disables the subscription;
   * `degraded`, before that, when the caller raises the degraded alert.
   */
  record(
    success: boolean,
    threshold: number,
    permit?: string,
    durationMs?: number,
    now = Date.now(),
  ): BreakerState & { tripped: boolean; recovered: boolean; degraded: Degraded | null } {
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
    // A success while tripped: the caller closes the breaker (recoverEndpoint).
    const recovered = success && s.trippedAt !== null;
    if (success) {
      s.consecutiveFailures = 0;
      s.trippedAt = null;
    } else {
      s.consecutiveFailures++;
      tripped = s.trippedAt === null && s.consecutiveFailures >= threshold;
      if (tripped) s.trippedAt = Date.now();
    }
    const degraded = durationMs === undefined ? null : noteHealth(this.ctx.storage, success, now, s.trippedAt === null);
    this.save();
    return { consecutiveFailures: s.consecutiveFailures, trippedAt: s.trippedAt, tripped, recovered, degraded };
  }

  /** PATCH isEnabled: true starts the count afresh and ends any hold: answers the held deliveries, oldest first, to release. */
  reset(): HeldRef[] {
    this.state.consecutiveFailures = 0;
    this.state.trippedAt = null;
    this.save();
    return this.breaker.end();
  }

  // --- breaker --- (the held deliveries and the probes: breaker-hold.ts; the schedule: breaker-schedule.ts)
  /**
   * Holds a delivery of the disabled subscription (`ref` absent: just the
   * cause, e.g. PATCH isEnabled: false). A trip starts the probes; a 410 or a
   * switch-off stops them. After give-up nothing is held any more: "failed".
   * This object, not the subscription's row, knows the breaker's state, so a
   * delivery the row calls tripped may be told otherwise: "open" (the breaker
   * closed and its hold ended; the row is being enabled again: it goes out),
   * or "probe" (it is the probe out now, come back without an answer, e.g.
   * repaired after its run died: it goes out as the probe).
   */
  async holdFor(
    who: { webhookId: string; ownerId: string },
    cause: HoldCause,
    ref: HeldRef | null,
    plan: BreakerPlan,
    now = Date.now(),
  ): Promise<"held" | "failed" | "open" | "probe"> {
    let h = this.breaker.current;
    if (h?.gaveUp && ref) return "failed";
    if (ref && cause === "circuit_breaker") {
      if (!h && this.state.trippedAt === null) return "open";
      if (h?.probing && h.probeId === ref.deliveryId) return "probe";
    }
    if (!h || h.gaveUp) h = openHold(who, cause, plan, now);
    else if (cause !== "circuit_breaker") h = stopProbing(h);
    if (ref) this.breaker.add(ref);
    await this.breaker.set(h);
    return "held";
  }

  /** A delivery a publish creates, or one just held, while the subscription is disabled: what becomes of it (breaker-hold.ts). */
  holdNew(refs: HeldRef[], stored: boolean): NewHold {
    return this.breaker.holdNew(refs, stored);
  }

  /** The probe failed: the next one waits twice as long (at most an hour). */
  async probeFailed(now = Date.now()): Promise<void> {
    const h = this.breaker.current;
    if (h?.probing) await this.breaker.set(afterFailedProbe(h, now));
  }

  /** Closes the breaker after a success: the held deliveries to release, and since when they were held; null when the hold is not the breaker's (switched off, 410). */
  recover(): { held: HeldRef[]; since: number } | null {
    const h = this.breaker.current;
    if (h && !h.probing) return null;
    const since = h?.since ?? Date.now();
    return { held: this.breaker.end(), since };
  }

  /** The subscription is deleted: nothing is held or probed any more (its deliveries are cancelled). */
  forget(): void {
    this.breaker.end();
  }

  breakerView(): BreakerView {
    return breakerView(this.state.trippedAt, this.breaker.current);
  }

  /** The one alarm is the breaker's: a probe due, a probe overdue, or give-up. */
  override async alarm(): Promise<void> {
    await this.breakerAlarm();
  }

  /** The alarm's work at a given time (the tests drive it with a clock of their own). */
  private async breakerAlarm(now = Date.now()): Promise<void> {
    await this.breaker.step(this.env, now);
  }
  // --- end breaker ---

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

  // --- ordering --- (ordering: "key": the lines of src/delivery/ordering/sequencer.ts, in their own table, created on first use)
  private turnStore: TurnStore | undefined;

  private get turns(): TurnStore {
    if (!this.turnStore) {
      this.ctx.storage.sql.exec(TURNS_SCHEMA);
      this.turnStore = sqlTurnStore(this.ctx.storage.sql);
    }
    return this.turnStore;
  }

  /** A publish's deliveries to this subscription, in the order their events were accepted: each one's place in its line. */
  registerTurns(requests: TurnRequest[], now = Date.now()): Place[] {
    return register(this.turns, requests, now);
  }

  /**
   * Whether the delivery holds its key's turn (then it may be attempted), or
   * how long until it looks again. A silent head is looked up in its shard
   * first: one found settled or gone leaves the line (`wake`: who holds a turn now).
   */
  async takeTurn(request: TurnRequest): Promise<{ go: boolean; recheckMs: number; wake: WakeTarget[] }> {
    const wake: WakeTarget[] = [];
    for (let i = 0; ; i++) {
      const d = decide(this.turns, request, Date.now());
      if (d.kind === "go") return { go: true, recheckMs: 0, wake };
      if (d.kind === "wait") return { go: false, recheckMs: d.recheckMs, wake };
      if (i >= 3) return { go: false, recheckMs: NEXT_RECHECK_MS, wake };
      const object = objectOfId(d.head.eventTenantId, d.head.deliveryId, "dlv");
      const row = object && (await shardStub(this.env, object.name).getDelivery(d.head.deliveryId, d.head.owner));
      const pending = row ? row.status === "pending" : false;
      const next = confirm(this.turns, d.head.deliveryId, pending, Date.now());
      if (next && next.deliveryId !== request.deliveryId) wake.push(next);
    }
  }

  /** Deliveries leave their lines (settled for good, or never stored): the ones now holding a turn, to wake. */
  releaseTurns(deliveryIds: string[], now = Date.now()): WakeTarget[] {
    return deliveryIds.map((id) => release(this.turns, id, now)).filter((w): w is WakeTarget => w !== null);
  }

  /** Every pending delivery of the subscription was cancelled (or it stopped being ordered): no lines left. */
  clearTurns(): void {
    clearLines(this.turns);
  }
  // --- end ordering ---
}
