import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export type BreakerState = { consecutiveFailures: number; trippedAt: number | null };

/**
 * The circuit breaker of one subscription (an object per webhook id). It
 * counts consecutive failed attempts; concurrent attempts of one endpoint
 * are serialised here, so the count is exact and the trip happens once.
 */
export class WebhookBreaker extends DurableObject<Env> {
  private read(): BreakerState {
    return this.ctx.storage.kv.get<BreakerState>("state") ?? { consecutiveFailures: 0, trippedAt: null };
  }

  /**
   * Records one attempt's outcome. `tripped` is true only for the failure
   * that reaches `threshold`: the caller then disables the subscription.
   */
  record(success: boolean, threshold: number): BreakerState & { tripped: boolean } {
    const state = this.read();
    if (success) {
      const next = { consecutiveFailures: 0, trippedAt: null };
      this.ctx.storage.kv.put("state", next);
      return { ...next, tripped: false };
    }
    const next: BreakerState = { consecutiveFailures: state.consecutiveFailures + 1, trippedAt: state.trippedAt };
    const tripped = next.trippedAt === null && next.consecutiveFailures >= threshold;
    if (tripped) next.trippedAt = Date.now();
    this.ctx.storage.kv.put("state", next);
    return { ...next, tripped };
  }

  /** PATCH isEnabled: true starts the count afresh. */
  reset(): void {
    this.ctx.storage.kv.put("state", { consecutiveFailures: 0, trippedAt: null });
  }

  state(): BreakerState {
    return this.read();
  }
}

export function breakerFor(env: Env, webhookId: string): DurableObjectStub<WebhookBreaker> {
  return env.WEBHOOK_BREAKER.get(env.WEBHOOK_BREAKER.idFromName(webhookId));
}
