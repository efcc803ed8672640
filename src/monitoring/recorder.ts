import type { Mode } from "../common/enums";
import { bucketStartOf, isRequestError, outcomeOf, USAGE_GRANULARITIES, type UsageOutcome } from "../common/usage";
import type { RequestErrorRecord } from "../data/request-log-sql";
import { bucketOf } from "../data/shard-map";
import { addUsage, credentialNames, type UsageDelta } from "../db/usage-counts";
import { requestLogFor } from "../objects";

/** An isolate writes what it counted at least this often unless configured otherwise (and a reader first writes its own). */
export const FLUSH_INTERVAL_MS = 10_000;
/** At most this many request errors of one tenant per batch; the rest are counted as dropped. */
export const MAX_ERRORS_PER_BATCH = 100;
// Old buckets are pruned by one flush a minute at most.
const PRUNE_INTERVAL_MS = 60_000;

/** One answer to a request made with a known credential. */
export type Observation = {
  requestId: string;
  at: number;
  tenantId: string;
  credentialId: string;
  mode: Mode;
  method: string;
  path: string;
  status: number;
  code: string | null;
  durationMs: number;
  ip: string | null;
};

const ZERO = { ok: 0, clientErrors: 0, rateLimited: 0, serverErrors: 0, errorsLogged: 0 };

type PendingErrors = { rows: Omit<RequestErrorRecord, "credentialName">[]; dropped: number };

const OUTCOME_FIELD: Record<UsageOutcome, keyof Pick<UsageDelta, UsageOutcome>> = {
  ok: "ok",
  clientErrors: "clientErrors",
  rateLimited: "rateLimited",
  serverErrors: "serverErrors",
};

/**
 * What this isolate counted and has not written yet: usage deltas per
 * credential and bucket, and each tenant's request errors (at most
 * MAX_ERRORS_PER_BATCH a batch). Requests only add up in memory; a flush
 * writes everything in one D1 batch and one request-log call per tenant and
 * day, however many requests it stands for. An isolate that is evicted
 * before its flush loses at most that many seconds of counts.
 */
export class RequestRecorder {
  private counts = new Map<string, UsageDelta>();
  private errors = new Map<string, PendingErrors>();
  private oldest: number | null = null;
  private flushing: Promise<void> | null = null;
  private lastPrune = 0;

  /** Adds one answer; true when it started a new batch (the caller arranges its flush). */
  record(o: Observation): boolean {
    const started = this.oldest === null;
    if (started) this.oldest = o.at;
    const field = OUTCOME_FIELD[outcomeOf(o.status)];
    const logged = isRequestError(o.status) ? 1 : 0;
    for (const granularity of USAGE_GRANULARITIES) {
      const start = bucketStartOf(granularity, o.at);
      const key = `${o.credentialId}|${granularity}|${start}`;
      let delta = this.counts.get(key);
      if (!delta) {
        delta = { credentialId: o.credentialId, tenantId: o.tenantId, mode: o.mode, granularity, start, ...ZERO };
        this.counts.set(key, delta);
      }
      delta[field] += 1;
      delta.errorsLogged += logged;
    }
    if (logged) {
      const pending = this.errors.get(o.tenantId) ?? { rows: [], dropped: 0 };
      this.errors.set(o.tenantId, pending);
      if (pending.rows.length < MAX_ERRORS_PER_BATCH) {
        const { tenantId: _tenant, ...row } = o;
        pending.rows.push(row);
      } else {
        pending.dropped += 1;
      }
    }
    return started;
  }

  /** True when the batch is old enough to be written. */
  due(now = Date.now(), intervalMs = FLUSH_INTERVAL_MS): boolean {
    return this.oldest !== null && now - this.oldest >= intervalMs;
  }

  /** Writes everything counted so far (after any flush already under way); what fails to write is kept for the next. */
  async flush(env: Env, retentionDays: number): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.oldest === null) return;
    const counts = [...this.counts.values()];
    const errors = this.errors;
    this.counts = new Map();
    this.errors = new Map();
    this.oldest = null;
    this.flushing = this.write(env, retentionDays, counts, errors).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(env: Env, retentionDays: number, counts: UsageDelta[], errors: Map<string, PendingErrors>): Promise<void> {
    const now = Date.now();
    const prune = now - this.lastPrune >= PRUNE_INTERVAL_MS;
    const [written] = await Promise.allSettled([addUsage(env.DB, counts, prune, now), this.writeErrors(env, retentionDays, errors)]);
    if (written.status === "fulfilled") {
      if (prune) this.lastPrune = now;
    } else {
      for (const d of counts) this.putBack(d, now);
      console.error(JSON.stringify({ message: "usage flush failed; counts kept for the next flush", deltas: counts.length }));
    }
  }

  private async writeErrors(env: Env, retentionDays: number, errors: Map<string, PendingErrors>): Promise<void> {
    if (errors.size === 0) return;
    const ids = [...new Set([...errors.values()].flatMap((p) => p.rows.map((r) => r.credentialId)))];
    const names = await credentialNames(env.DB, ids).catch(() => new Map<string, string>());
    const calls: Promise<void>[] = [];
    for (const [tenantId, pending] of errors) {
      const days = new Map<number, RequestErrorRecord[]>();
      for (const row of pending.rows) {
        const day = bucketOf(row.at);
        days.set(day, [...(days.get(day) ?? []), { ...row, credentialName: names.get(row.credentialId) ?? null }]);
      }
      // The dropped count goes with the newest day of the batch (or today's, when every row was dropped).
      const newest = days.size > 0 ? Math.max(...days.keys()) : bucketOf(Date.now());
      if (!days.has(newest)) days.set(newest, []);
      for (const [day, rows] of days) {
        const dropped = day === newest ? pending.dropped : 0;
        calls.push(
          requestLogFor(env, tenantId, day)
            .record(tenantId, day, retentionDays, rows, dropped)
            .catch(() => {
              // Storage refused the batch: these errors are counted as dropped in this isolate's next batch.
              const next = this.errors.get(tenantId) ?? { rows: [], dropped: 0 };
              next.dropped += rows.length + dropped;
              this.errors.set(tenantId, next);
              this.oldest ??= Date.now();
            }),
        );
      }
    }
    await Promise.all(calls);
  }

  private putBack(d: UsageDelta, now: number): void {
    const key = `${d.credentialId}|${d.granularity}|${d.start}`;
    const held = this.counts.get(key);
    if (held) for (const f of [...Object.values(OUTCOME_FIELD), "errorsLogged" as const]) held[f] += d[f];
    else this.counts.set(key, { ...d });
    this.oldest ??= now;
  }
}

/** This isolate's recorder (isolates are not shared: each adds up its own requests). */
export const recorder = new RequestRecorder();
