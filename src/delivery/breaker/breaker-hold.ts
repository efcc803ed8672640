import { loadConfig } from "../../config";
import { sendToQueue } from "../../data/outbox";
import { cachedTenant } from "../../tenants/cache";
import type { PortsFor } from "../ports";
import { failHeld, stillHeld } from "./breaker";
import { afterFailedProbe, afterSilentProbe, type HeldRef, type Hold, type NewHold, nextWake, stopProbing } from "./breaker-schedule";

/** The deliveries held while the subscription is disabled, in the order they go out again. */
const HELD_SCHEMA =
  "CREATE TABLE IF NOT EXISTS held (delivery_id TEXT PRIMARY KEY, event_tenant_id TEXT NOT NULL, created_at INTEGER NOT NULL); CREATE INDEX IF NOT EXISTS held_order ON held (created_at, delivery_id);";
// How long past the delivery timeout a probe may take to report before it counts as failed.
const PROBE_MARGIN_MS = 60_000;

const refOf = (r: Record<string, SqlStorageValue>): HeldRef => ({
  deliveryId: String(r.delivery_id),
  eventTenantId: String(r.event_tenant_id),
  createdAt: Number(r.created_at),
});

/**
 * The breaker's part of a subscription's governor storage: the hold (why
 * the subscription is disabled, the probe schedule) in kv, and the held
 * deliveries in SQLite, so their order holds across data shards and days.
 */
export class BreakerHold {
  private cached: Hold | null | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly portsFor: PortsFor,
  ) {
    storage.sql.exec(HELD_SCHEMA);
  }

  get current(): Hold | null {
    if (this.cached === undefined) this.cached = this.storage.kv.get<Hold>("hold") ?? null;
    return this.cached;
  }

  /** Stores the hold and arms the object's alarm for its next step, unless one is due sooner. */
  async set(h: Hold | null): Promise<void> {
    this.cached = h;
    if (h) this.storage.kv.put("hold", h);
    else this.storage.kv.delete("hold");
    const wake = nextWake(h);
    if (wake === null) return;
    const armed = await this.storage.getAlarm();
    if (armed === null || armed > wake) await this.storage.setAlarm(wake);
  }

  add(ref: HeldRef): void {
    this.storage.sql.exec(
      "INSERT OR IGNORE INTO held (delivery_id, event_tenant_id, created_at) VALUES (?, ?, ?)",
      ref.deliveryId,
      ref.eventTenantId,
      ref.createdAt,
    );
  }

  /**
   * A delivery a publish creates while the subscription is disabled, asked
   * before it is stored (`stored` false) and again once stored, or held
   * (the hold may have ended meanwhile): listed in order while the hold
   * lasts; see NewHold for the other answers.
   */
  holdNew(refs: HeldRef[], stored: boolean): NewHold {
    const h = this.current;
    if (!h) return "open";
    if (h.gaveUp) return "gave_up";
    // Not the breaker's hold: nothing new for it, but a row already stored is kept with the others.
    if (!h.probing && !stored) return "off";
    for (const r of refs) this.add(r);
    return "held";
  }

  /** Ends the hold: every held delivery, oldest first, for the caller to release or fail. */
  end(): HeldRef[] {
    const sql = this.storage.sql;
    const held = sql
      .exec("SELECT delivery_id, event_tenant_id, created_at FROM held ORDER BY created_at, delivery_id")
      .toArray()
      .map(refOf);
    sql.exec("DELETE FROM held");
    this.cached = null;
    this.storage.kv.delete("hold");
    return held;
  }

  /** The alarm's step: give up, send again a probe that never reported (breaker-schedule.ts), or send the next probe. */
  async step(env: Env, now = Date.now()): Promise<void> {
    let h = this.current;
    if (!h || h.gaveUp) return;
    const loaded = loadConfig(env);
    if (!loaded.ok) {
      await this.storage.setAlarm(now + 60_000);
      return;
    }
    const config = loaded.config;
    if (now >= h.giveUpAt) {
      const held = this.end();
      await this.set({ ...stopProbing(h), gaveUp: true });
      await failHeld(env, this.portsFor(env, config), await cachedTenant(env.DB, h.ownerId), h.webhookId, held);
      return;
    }
    if (h.probing && h.probeId && h.probeDeadline !== null && now >= h.probeDeadline) h = afterSilentProbe(h, now);
    if (h.probing && !h.probeId && h.nextProbeAt !== null && now >= h.nextProbeAt)
      return this.sendProbe(env, h, config.deliveryTimeoutMs, now);
    await this.set(h);
  }

  /**
   * The oldest delivery still held goes out as the probe (a real attempt
   * through the queue). Stored as the probe before its message leaves: the
   * consumer asks the governor whether it is the probe.
   */
  private async sendProbe(env: Env, h: Hold, timeoutMs: number, now: number): Promise<void> {
    const sql = this.storage.sql;
    for (;;) {
      const row = sql
        .exec("SELECT delivery_id, event_tenant_id, created_at FROM held ORDER BY created_at, delivery_id LIMIT 1")
        .toArray()[0];
      // Nothing held to probe with: wait as if it had failed.
      if (!row) return this.set(afterFailedProbe(h, now));
      const ref = refOf(row);
      if (await stillHeld(env, ref)) {
        await this.set({ ...h, probeId: ref.deliveryId, probeDeadline: now + timeoutMs + PROBE_MARGIN_MS });
        await sendToQueue(env, [{ body: { kind: "probe", deliveryId: ref.deliveryId, tenantId: ref.eventTenantId } }]);
        return;
      }
      sql.exec("DELETE FROM held WHERE delivery_id = ?", ref.deliveryId);
    }
  }
}
