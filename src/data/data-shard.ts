import { DurableObject } from "cloudflare:workers";
import type { DeliveryStatus, SourceRequestStatus } from "../db/schema";
import { shardStub } from "../objects";
import { enqueueDeliveries } from "./outbox";
import type {
  AttemptInsert,
  Before,
  ClaimRecord,
  DeliveryFilter,
  DeliveryRecord,
  EventRecord,
  ShardPublish,
  ShardPublishResult,
  SourceRequestRecord,
} from "./records";
import { BUCKET_MS, bucketStart, CLAIM_WINDOW_MS } from "./shard-map";
import * as read from "./shard-reads";
import { prepareShardTables } from "./shard-schema";
import * as write from "./shard-writes";

/** A pending delivery this long past due (or past its lease) has lost its queue message: the alarm re-enqueues it. */
export const REPAIR_GRACE_MS = 30_000;
/** A repaired row still pending this long after (that message lost too, or the queue behind) is repaired again: 90 s past due with the grace, within two minutes. */
export const REPAIR_BACKOFF_MS = 60_000;
const REPAIR_RETRY_MS = 5_000; // a repair whose send failed (its rows put back as they were) comes back this soon
const REPAIR_BATCH = 500;

type Meta = { tenantId: string; bucket: number; retentionAt: number };
type Replay = { claim: ClaimRecord; event: EventRecord; deliveries: DeliveryRecord[] };

/**
 * One data shard: a day of one shard of one tenant's events, with their
 * deliveries, attempts, idempotency claims and source requests, in the
 * object's own SQLite. A publish is one synchronous transaction here. The
 * object's alarm is its outbox: it re-enqueues any pending delivery whose
 * queue message was lost or whose attempt's lease ran out, and when the
 * bucket passes the retention horizon it drops everything at once.
 */
export class DataShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // An object nobody wrote to stays empty (reads fan out over objects that may hold nothing): its tables come with its first write.
    if (this.meta) prepareShardTables(this.ctx.storage);
  }

  private get meta(): Meta | undefined {
    return this.ctx.storage.kv.get<Meta>("meta");
  }

  /** Whether anything was ever written here (reads of an empty object answer without touching storage). */
  private get empty(): boolean {
    return this.meta === undefined;
  }

  private get tenant(): string {
    return this.meta?.tenantId ?? "";
  }

  private remember(tenantId: string, bucket: number, retentionDays: number): void {
    if (this.meta) return;
    prepareShardTables(this.ctx.storage);
    this.ctx.storage.kv.put("meta", { tenantId, bucket, retentionAt: bucketStart(bucket + 1) + retentionDays * BUCKET_MS });
  }

  /** Keeps the one alarm at the earliest of: the next repair due, the retention horizon. */
  private async arm(dueMs: number): Promise<void> {
    const at = Math.min(dueMs, this.meta?.retentionAt ?? dueMs);
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private claimFor(key: string, now: number): ClaimRecord | null {
    return this.empty ? null : read.claimFor(this.sql, key, now - CLAIM_WINDOW_MS);
  }

  /** The first answer to a key, if its claim is held here: another object of the tenant asks (a repeat across midnight or a shard change). */
  findReplay(key: string, owner: string, now = Date.now()): Replay | null {
    const claim = this.claimFor(key, now);
    const event = claim && read.eventById(this.sql, this.tenant, claim.eventId);
    return claim && event ? { claim, event, deliveries: read.deliveriesOf(this.sql, this.tenant, event.id, owner) } : null;
  }

  async publish(input: ShardPublish): Promise<ShardPublishResult> {
    const now = input.event.createdAt.getTime();
    const claim = input.claim;
    let earlier: Replay | null = null;
    if (claim && claim.elsewhere.length > 0 && !this.claimFor(claim.key, now)) {
      const found = await Promise.all(claim.elsewhere.map((name) => shardStub(this.env, name).findReplay(claim.key, input.tenantId, now)));
      earlier = found.find((r) => r !== null) ?? null;
    }
    this.remember(input.tenantId, input.bucket, input.retentionDays);
    const result = this.ctx.storage.transactionSync((): ShardPublishResult => {
      // Checked inside the transaction: of two publishes of one key, the second sees the first's claim.
      const held = (claim && this.findReplay(claim.key, input.tenantId, now)) ?? earlier;
      if (claim && held) {
        if (held.claim.requestHash !== claim.requestHash && !claim.keyIdentifiesDelivery) return { kind: "reused" };
        if (input.sourceRequest)
          write.insertSourceRequest(this.sql, { ...input.sourceRequest, status: "duplicate", eventId: held.event.id });
        return { kind: "replayed", event: held.event, deliveries: held.deliveries };
      }
      if (claim) write.insertClaim(this.sql, claim, input.event.id, now);
      write.insertEvent(this.sql, input.event);
      for (const d of input.deliveries) write.insertDelivery(this.sql, d);
      if (input.sourceRequest) write.insertSourceRequest(this.sql, input.sourceRequest);
      return { kind: "stored" };
    });
    const due = input.deliveries.map((d) => d.nextAttemptAt?.getTime() ?? now);
    await this.arm(result.kind === "stored" && due.length > 0 ? Math.min(...due) + REPAIR_GRACE_MS : (this.meta?.retentionAt ?? now));
    return result;
  }

  eventWithDeliveries(id: string, owner: string): { event: EventRecord; deliveries: DeliveryRecord[] } | null {
    const event = this.empty ? null : read.eventById(this.sql, this.tenant, id);
    return event ? { event, deliveries: read.deliveriesOf(this.sql, this.tenant, id, owner) } : null;
  }

  listEvents(q: read.EventQuery): EventRecord[] {
    return this.empty ? [] : read.listEvents(this.sql, this.tenant, q);
  }

  listDeliveries(f: DeliveryFilter, before: Before | null, limit: number): DeliveryRecord[] {
    return this.empty ? [] : read.listDeliveries(this.sql, this.tenant, f, before, limit);
  }

  getDelivery(id: string, owner: string): DeliveryRecord | null {
    return this.empty ? null : read.deliveryById(this.sql, this.tenant, id, owner);
  }

  /** A delivery's attempts, oldest first, with the event they carried (their bodies are rebuilt from it). */
  attemptsOf(deliveryId: string): { attempts: AttemptInsert[]; event: EventRecord | null } {
    const delivery = this.empty ? null : read.deliveryById(this.sql, this.tenant, deliveryId);
    if (!delivery) return { attempts: [], event: null };
    return { attempts: read.attemptsOf(this.sql, this.tenant, deliveryId), event: read.eventById(this.sql, this.tenant, delivery.eventId) };
  }

  /** Everything one attempt needs from the data plane, in one call. */
  loadForAttempt(id: string): { delivery: DeliveryRecord; event: EventRecord | null } | null {
    const delivery = this.empty ? null : read.deliveryById(this.sql, this.tenant, id);
    return delivery ? { delivery, event: read.eventById(this.sql, this.tenant, delivery.eventId) } : null;
  }

  /** Takes attempt `attemptsSoFar + 1` unless someone else has; the lease keeps the repair off it meanwhile. */
  async claim(id: string, attemptsSoFar: number, now: Date, leaseUntil: Date): Promise<boolean> {
    const taken = !this.empty && write.claimAttempt(this.sql, id, attemptsSoFar, now.getTime(), leaseUntil.getTime());
    if (taken) await this.arm(leaseUntil.getTime() + REPAIR_GRACE_MS);
    return taken;
  }

  /**
   * Records an attempt and its outcome in one transaction. With
   * `onlyIfPending`, a delivery cancelled meanwhile stays cancelled (the
   * attempt is still logged). Answers whether the delivery changed.
   */
  async settle(id: string, set: write.SettleSet, onlyIfPending: boolean, attempt: AttemptInsert | null): Promise<boolean> {
    if (this.empty) return false;
    const changed = this.ctx.storage.transactionSync(() => {
      if (attempt) write.insertAttempt(this.sql, attempt);
      return write.settleDelivery(this.sql, id, set, onlyIfPending);
    });
    if (set.status === "pending" && set.nextAttemptAt) await this.arm(set.nextAttemptAt.getTime() + REPAIR_GRACE_MS);
    return changed;
  }

  /** Marks a delivery failed or cancelled only if it is still pending. */
  settleIfPending(id: string, status: DeliveryStatus): boolean {
    return !this.empty && write.settleIfPending(this.sql, id, status);
  }

  /** Moves a waiting delivery's due time (flow control handed it back to the queue with a delay). */
  async defer(id: string, until: Date): Promise<void> {
    if (this.empty) return;
    write.deferDelivery(this.sql, id, until.getTime());
    await this.arm(until.getTime() + REPAIR_GRACE_MS);
  }

  /** Puts deliveries back to pending, due now, for one more attempt each. */
  async reopen(ids: string[], now = new Date()): Promise<number> {
    if (this.empty) return 0;
    const n = ids.reduce((sum, id) => sum + write.reopenDelivery(this.sql, id, now.getTime()), 0);
    if (n > 0) await this.arm(now.getTime() + REPAIR_GRACE_MS);
    return n;
  }

  /** Cancels a subscription's pending deliveries (it was deleted or disabled). */
  cancelPending(webhookId: string): number {
    return this.empty ? 0 : write.cancelPendingOf(this.sql, webhookId);
  }

  // --- breaker: held deliveries stay pending with no due time, so neither the queue nor the repair sends them ---
  /** Holds a pending delivery (its subscription is disabled); answers whether it was pending. */
  hold(id: string): boolean {
    return !this.empty && write.holdDelivery(this.sql, id);
  }

  /** Held deliveries become due now (the caller enqueues them); answers those released. */
  async releaseHeld(ids: string[], now = Date.now()): Promise<string[]> {
    if (this.empty) return [];
    const released = ids.filter((id) => write.releaseHeld(this.sql, id, now));
    if (released.length > 0) await this.arm(now + REPAIR_GRACE_MS);
    return released;
  }

  /** Give-up: held deliveries still pending become failed. */
  failHeld(ids: string[]): { id: string; eventId: string; eventType: string; attempts: number }[] {
    return this.empty ? [] : ids.flatMap((id) => write.failHeld(this.sql, id));
  }
  // --- end breaker ---

  failedSince(webhookId: string, owner: string, since: Date, limit: number): { id: string; createdAt: number }[] {
    return this.empty ? [] : read.failedSince(this.sql, webhookId, owner, since, limit);
  }

  /** A bulk replay's matches here: how many, and the oldest `limit` (src/replays/match.ts). */
  replayMatches(f: read.ReplayFilter, limit: number): { count: number; rows: { id: string; createdAt: number }[] } {
    return this.empty ? { count: 0, rows: [] } : read.replayMatches(this.sql, f, limit);
  }

  /** Reopens a delivery for a replay's attempt only while it is still in one of `statuses` (never one in flight). */
  async reopenForReplay(
    id: string,
    statuses: string[],
    now = Date.now(),
  ): Promise<{ delivery: DeliveryRecord; event: EventRecord | null } | null> {
    const found = this.loadForAttempt(id);
    if (!found || !statuses.includes(found.delivery.status) || write.reopenDelivery(this.sql, id, now) === 0) return null;
    await this.arm(now + REPAIR_GRACE_MS);
    return { delivery: { ...found.delivery, status: "pending", nextAttemptAt: new Date(now) }, event: found.event };
  }

  async logTestAttempt(tenantId: string, bucket: number, retentionDays: number, attempt: AttemptInsert): Promise<void> {
    this.remember(tenantId, bucket, retentionDays);
    write.insertAttempt(this.sql, attempt);
    await this.arm(this.meta?.retentionAt ?? Date.now());
  }

  async logSourceRequest(tenantId: string, bucket: number, retentionDays: number, r: SourceRequestRecord): Promise<void> {
    this.remember(tenantId, bucket, retentionDays);
    write.insertSourceRequest(this.sql, r);
    await this.arm(this.meta?.retentionAt ?? Date.now());
  }

  listSourceRequests(
    sourceId: string,
    status: SourceRequestStatus | undefined,
    before: Before | null,
    limit: number,
  ): SourceRequestRecord[] {
    return this.empty ? [] : read.listSourceRequests(this.sql, this.tenant, sourceId, status, before, limit);
  }

  getSourceRequest(id: string, sourceId: string): SourceRequestRecord | null {
    return this.empty ? null : read.sourceRequestById(this.sql, this.tenant, id, sourceId);
  }

  updateSourceRequest(id: string, set: write.RequestLogChange): void {
    if (!this.empty) write.updateSourceRequest(this.sql, id, set);
  }

  /**
   * The outbox and the retention horizon. At-least-once, so idempotent: a
   * repaired row is only re-enqueued, and of two messages for one attempt
   * only one wins the claim.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const meta = this.meta;
    if (!meta) return;
    const now = Date.now();
    if (now >= meta.retentionAt) {
      // With this compatibility date, deleteAll takes the alarm with it: the object is gone.
      await this.ctx.storage.deleteAll();
      return;
    }
    const lost = write.takeLostDeliveries(this.sql, now, REPAIR_GRACE_MS, REPAIR_BACKOFF_MS, REPAIR_BATCH);
    const sent = await enqueueDeliveries(
      this.env,
      lost.map((r) => ({ id: r.id, eventTenantId: meta.tenantId })),
    );
    if (!sent) {
      write.untakeLost(this.sql, lost, now);
      await this.arm(now + REPAIR_RETRY_MS);
      return;
    }
    const next = write.nextRepairAt(this.sql, REPAIR_GRACE_MS, REPAIR_BACKOFF_MS);
    const due = lost.length === REPAIR_BATCH ? now : (next ?? meta.retentionAt);
    await this.arm(Math.max(due, now + 1_000));
  }
}
