import { type AlertState, dueAlerts, emptyAlertState, type LimitDecision, limitAlert } from "./alert-rules";
import type { AlertInputs, CredentialAlertNotify, CredentialSubject, RaisedAlert } from "./alert-types";
import type { Spend } from "./approximate/spend";
import type { Bucket } from "./gate-types";
import { gcra, type Tat } from "./gcra";

/**
 * A credential gate's alerts (src/ratelimit/alert-rules.ts says when each
 * fires): their state in the object's own storage, apart from the limiter's,
 * and the object's one alarm shared with the usage flush. The limit alerts
 * come from the admit decision and go out as the object's own async work,
 * adding nothing to the request; expiry and dormancy come from the alarm,
 * set for the next time one may be due, so nothing scans credentials.
 */
export class CredentialAlerts {
  private cached: AlertState | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly notify: CredentialAlertNotify | null,
  ) {}

  private get state(): AlertState {
    this.cached ??= { ...emptyAlertState(), ...this.ctx.storage.kv.get<AlertState>("alerts") };
    return this.cached;
  }

  private save(): void {
    this.ctx.storage.kv.put("alerts", this.state);
  }

  /** Learns whose credential this is (on create and change; or from a request, for an object made before alerts). */
  know(subject: CredentialSubject): void {
    const known = this.state.subject;
    if (known && known.tenantId === subject.tenantId && (known.createdAt !== null || subject.createdAt === null)) return;
    this.state.subject = { tenantId: subject.tenantId, createdAt: subject.createdAt ?? known?.createdAt ?? null };
    this.save();
  }

  /** After a rate-limit decision: raises `limit_approaching` or `rate_limited` without waiting for it. */
  afterDecision(credentialId: string, decision: LimitDecision, now: number): void {
    if (!this.state.subject) return;
    const alert = limitAlert(this.state, credentialId, decision, now);
    if (!alert) return;
    this.save();
    this.ctx.waitUntil(this.raise([alert]));
  }

  /**
   * After the approximate limiter's isolates reported what they admitted and
   * refused: each bucket they spent from, as it stands now, is an admitted
   * decision (`limit_approaching`), and one they refused from a refused one
   * (`rate_limited`).
   */
  afterSpends(credentialId: string, spends: readonly Spend[], tats: Record<string, Tat>, now: number): void {
    for (const spend of spends) {
      // The key ends `<bucket>:<limit>:<windowSeconds>` (a mode may come first).
      const bucket = spend.key.split(":").at(-3) as Bucket;
      if (spend.cost > 0) {
        // What one more request of no cost would be told: the slots left now.
        const { remaining } = gcra(tats[spend.key], now, spend.window, 0);
        this.afterDecision(credentialId, { bucket, ...spend.window, remaining, allowed: true }, now);
      }
      if ((spend.refused ?? 0) > 0) this.afterDecision(credentialId, { bucket, ...spend.window, remaining: 0, allowed: false }, now);
    }
  }

  /**
   * The policy (or its owner) changed: looks again at once if an alert is due
   * now (a credential created or changed inside an expiry window hears of it
   * within seconds), else sets the alarm for when one may be.
   */
  async replan(inputs: AlertInputs, now: number): Promise<void> {
    const plan = dueAlerts(structuredClone(this.state), inputs, now);
    await this.wakeAt(plan.alerts.length > 0 ? now : plan.nextAt);
  }

  /** The alarm's part: raises what is due at `now`, then sets the alarm for the next one (or keeps a sooner one). */
  async onAlarm(inputs: AlertInputs, now: number): Promise<void> {
    const plan = dueAlerts(this.state, inputs, now);
    if (plan.alerts.length > 0) {
      this.save();
      await this.raise(plan.alerts);
    }
    await this.wakeAt(plan.nextAt);
  }

  private async wakeAt(at: number | null): Promise<void> {
    if (at === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  private async raise(alerts: RaisedAlert[]): Promise<void> {
    if (!this.notify) return;
    for (const alert of alerts) await this.notify(this.env, alert);
  }
}
