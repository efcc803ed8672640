import { DurableObject } from "cloudflare:workers";
import type { Config } from "../config";
import { loadConfig } from "../config";
import { objectOfId } from "../data/placement";
import { auditStatement } from "../db/audit";
import { createDb } from "../db/client";
import { type WebhookRow, webhookById } from "../db/webhooks";
import { shardStub } from "../objects";
import { ownedAction } from "../tenants/operator";
import { deliveryPorts } from "../wiring";
import { addItems, clearItems, countItems, type ItemState, LANE_SCHEMA, nextDue, orphans, setItemState, takeNext } from "./lane-items";
import { pump, replayOne, replayPace } from "./pump";
import type { ReplayRow } from "./store";
import { saveReplay } from "./store";

/** How long one alarm feeds attempts before it writes progress to D1 and comes back. */
const TICK_MS = 5_000;
/** If an alarm dies mid-run, the next one comes this much later. */
const WATCHDOG_MS = 60_000;
/** How often a replay waiting only on attempts left by an earlier run looks at them again. */
const RECHECK_MS = 10_000;
/** An attempt left in flight by an earlier run whose delivery is still pending this long after is counted as not sent. */
const ORPHAN_GIVE_UP_MS = 15 * 60_000;

type Current = Omit<ReplayRow, "sent" | "succeeded" | "failed"> & {
  /** D1 holds the finished row: the lane may forget it. */
  flushed: boolean;
  /** The lane ended it itself (the endpoint was disabled or deleted): audit `replay.cancelled` with this reason. */
  systemCancel?: string;
};

export type StartResult = { ok: true; replay: ReplayRow } | { ok: false; runningId: string };
export type CancelResult = { kind: "cancelled"; replay: ReplayRow } | { kind: "finished"; replay: ReplayRow } | { kind: "unknown" };

/**
 * One per endpoint: the replay lane. It runs the endpoint's one replay at a
 * time, apart from the delivery queue (live deliveries never wait behind a
 * replay's thousands): its alarm feeds a few attempts at a time, each
 * exactly a manual retry through the one attempt path, within half the
 * endpoint's flow control. Its storage is the truth while the replay runs;
 * D1 mirrors it for lookups and lists.
 */
export class ReplayLane extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private cached: Current | null | undefined;
  /** Items this instance is attempting now (any other item in flight was left by an earlier run). */
  private readonly running = new Set<number>();
  /** When this lane's recent attempts started: the pace holds across ticks. */
  private readonly starts: number[] = [];
  /** A step is feeding attempts (an alarm retried while one runs must not start a second pump). */
  private pumping = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(LANE_SCHEMA);
  }

  private get current(): Current | null {
    if (this.cached === undefined) this.cached = this.ctx.storage.kv.get<Current>("current") ?? null;
    return this.cached;
  }

  private save(c: Current | null): void {
    this.cached = c;
    if (c) this.ctx.storage.kv.put("current", c);
    else this.ctx.storage.kv.delete("current");
  }

  private record(c: Current): ReplayRow {
    const { flushed: _f, systemCancel: _s, ...row } = c;
    const { sent, succeeded, failed } = countItems(this.sql, c.id);
    return { ...row, sent, succeeded, failed };
  }

  /** The running replay's id, if any. */
  runningId(): string | null {
    const c = this.current;
    return c?.state === "running" ? c.id : null;
  }

  /** Starts a replay of `items` (oldest first), unless one is running (atomically: one object per endpoint). */
  async start(row: Omit<ReplayRow, "sent" | "succeeded" | "failed">, items: { id: string; eventTenantId: string }[]): Promise<StartResult> {
    const c = this.current;
    if (c?.state === "running") return { ok: false, runningId: c.id };
    if (c) await this.retire(c);
    this.ctx.storage.transactionSync(() => addItems(this.sql, row.id, items));
    const started: Current = { ...row, flushed: false };
    this.save(started);
    await this.ctx.storage.setAlarm(Date.now());
    return { ok: true, replay: this.record(started) };
  }

  /** The live record of replay `id`, or null when this lane no longer holds it (D1's row is final). */
  progress(id: string): ReplayRow | null {
    const c = this.current;
    return c?.id === id ? this.record(c) : null;
  }

  /** Stops what has not been sent; attempts in flight finish and are counted. */
  async cancel(id: string): Promise<CancelResult> {
    const c = this.current;
    if (!c || c.id !== id) return { kind: "unknown" };
    if (c.state !== "running") return { kind: "finished", replay: this.record(c) };
    const cancelled: Current = { ...c, state: "cancelled", finishedAt: new Date() };
    this.save(cancelled);
    await this.ctx.storage.setAlarm(Date.now() + 1_000);
    return { kind: "cancelled", replay: this.record(cancelled) };
  }

  override async alarm(): Promise<void> {
    const c = this.current;
    if (!c) return;
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
    if (c.state === "running") await this.step(c);
    await this.reconcile(c);
    let latest = this.current ?? c;
    const counts = countItems(this.sql, c.id);
    if (latest.state === "running" && counts.queued === 0 && counts.inflight === 0) {
      latest = { ...latest, state: "done", finishedAt: new Date() };
      this.save(latest);
    }
    await this.flush(latest);
    const after = this.current;
    if (after && after.state !== "running" && after.flushed && counts.inflight === 0) {
      clearItems(this.sql, c.id);
      this.save(null);
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const due = after?.state === "running" ? (nextDue(this.sql, c.id) ?? Date.now() + RECHECK_MS) : Date.now() + RECHECK_MS;
    await this.ctx.storage.setAlarm(Math.max(due, Date.now()));
  }

  /** Feeds attempts for up to a tick. */
  private async step(c: Current): Promise<void> {
    const loaded = loadConfig(this.env);
    if (!loaded.ok || this.pumping) return;
    const webhook = await this.endpoint(c);
    if (!webhook) return;
    this.pumping = true;
    try {
      await this.feed(c, webhook, loaded.config);
    } finally {
      this.pumping = false;
    }
  }

  /** The endpoint as it is now; a disabled or deleted one ends the replay (cancelled, by the system). */
  private async endpoint(c: Current): Promise<WebhookRow | null> {
    const webhook = await webhookById(createDb(this.env.DB), c.webhookId);
    if (webhook && !webhook.deletedAt && webhook.isEnabled) return webhook;
    const latest = this.current;
    if (latest?.id === c.id && latest.state === "running") {
      const systemCancel = webhook && !webhook.deletedAt ? "webhook_disabled" : "webhook_deleted";
      this.save({ ...latest, state: "cancelled", finishedAt: new Date(), systemCancel });
    }
    return null;
  }

  private async feed(c: Current, first: WebhookRow, config: Config): Promise<void> {
    let webhook = first;
    const ports = deliveryPorts(this.env, config);
    await pump({
      ...replayPace(webhook),
      starts: this.starts,
      deadline: Date.now() + TICK_MS,
      take: () => {
        const item = takeNext(this.sql, c.id, Date.now());
        if (item) this.running.add(item.seq);
        return item;
      },
      // The endpoint is read again before each attempt, as the queue's consumer does: a disable or a deletion stops the rest.
      running: async () => {
        webhook = (await this.endpoint(c)) ?? webhook;
        return this.current?.id === c.id && this.current.state === "running";
      },
      run: (item) => replayOne(this.env, config, ports, webhook, c.statuses, item),
      finish: (item, result) => {
        this.running.delete(item.seq);
        setItemState(this.sql, c.id, item.seq, result.state, result.notBefore ?? 0);
      },
      abandon: (item, err) => {
        console.error(`replay ${c.id}: attempt of ${item.deliveryId} failed to run`, err);
        this.running.delete(item.seq);
      },
    });
  }

  /** Items left in flight by an earlier run: their delivery's row says what became of them. */
  private async reconcile(c: Current): Promise<void> {
    for (const item of orphans(this.sql, c.id, this.running)) {
      const object = objectOfId(item.tenantId, item.deliveryId, "dlv");
      const row = object ? await shardStub(this.env, object.name).getDelivery(item.deliveryId, c.tenantId) : null;
      let state: ItemState | null = null;
      const attempted = row?.lastAttemptAt && row.lastAttemptAt.getTime() >= item.startedAt;
      if (!row) state = "skipped";
      else if (row.status === "pending") state = Date.now() - item.startedAt > ORPHAN_GIVE_UP_MS ? "skipped" : null;
      else if (!attempted) state = c.state === "running" ? "queued" : "skipped";
      else state = row.status === "succeeded" ? "succeeded" : "failed";
      if (state) setItemState(this.sql, c.id, item.seq, state);
    }
  }

  /** Mirrors the record to D1 (with the audit entry of a cancel the lane decided itself). */
  private async flush(c: Current): Promise<void> {
    const db = createDb(this.env.DB);
    const row = this.record(c);
    const who = { tenantId: c.tenantId, actor: "system", ip: null, requestId: `rpl:${c.id}` };
    const audit = c.systemCancel
      ? [
          auditStatement(db, who, {
            action: ownedAction(c.tenantId, "replay.cancelled"),
            target: c.id,
            details: { reason: c.systemCancel },
          }),
        ]
      : [];
    try {
      await db.batch([saveReplay(db, row), ...audit]);
    } catch (err) {
      console.error(`replay ${c.id}: progress not saved to D1; the next alarm tries again`, err);
      return;
    }
    const latest = this.current;
    if (latest?.id !== c.id) return;
    const { systemCancel: _s, ...rest } = latest;
    this.save({ ...rest, flushed: c.state !== "running" && latest.state === c.state });
  }

  /** Before a new replay: the last one's final row reaches D1, and its items go. */
  private async retire(c: Current): Promise<void> {
    if (!c.flushed) await this.flush(c);
    clearItems(this.sql, c.id);
  }
}
