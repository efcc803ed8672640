import type { Config } from "../../config";

/**
 * The breaker's schedule, pure: when to probe, when to give up, what stats
 * show (the rules: docs/webhooks-and-deliveries.md, "Endpoint health"). The
 * governor stores a `Hold`; src/delivery/breaker/breaker.ts acts on it.
 */

export const MAX_PROBE_WAIT_MS = 3_600_000;

/** Why deliveries are held: the breaker tripped (probed), a 410, or the subscription was switched off (neither probed). */
export type HoldCause = "circuit_breaker" | "gone" | "manual";

export type BreakerPlan = { probeMs: number; giveUpMs: number };

export const breakerPlan = (config: Config): BreakerPlan => ({
  probeMs: config.breakerProbeSeconds * 1000,
  giveUpMs: config.breakerGiveUpHours * 3_600_000,
});

/** A held delivery as the governor lists it: enough to find its shard and keep the order. */
export type HeldRef = { deliveryId: string; eventTenantId: string; createdAt: number };

/**
 * What the governor says of a delivery created, or coming up, while the
 * subscription is disabled: `held` (listed with the others), `open` (no
 * hold any more: it goes out as usual), `off` (switched off or a 410: a
 * publish creates none) or `gave_up` (it fails at once).
 */
export type NewHold = "held" | "open" | "off" | "gave_up";

/** The governor's record of a hold. */
export type Hold = {
  webhookId: string;
  /** The subscription's owner (whose stream gets the operational events). */
  ownerId: string;
  since: number;
  probing: boolean;
  nextProbeAt: number | null;
  lastWaitMs: number;
  /** The delivery out as a probe now (half-open), and when to stop waiting for its answer. */
  probeId: string | null;
  probeDeadline: number | null;
  /** Probes in a row that never reported (absent in holds stored before it was counted: none). */
  silentProbes?: number;
  giveUpAt: number;
  gaveUp: boolean;
};

export function openHold(who: { webhookId: string; ownerId: string }, cause: HoldCause, plan: BreakerPlan, now: number): Hold {
  const probing = cause === "circuit_breaker";
  return {
    ...who,
    since: now,
    probing,
    nextProbeAt: probing ? now + plan.probeMs : null,
    lastWaitMs: plan.probeMs,
    probeId: null,
    probeDeadline: null,
    giveUpAt: now + plan.giveUpMs,
    gaveUp: false,
  };
}

/** A probe failed: wait twice as long as last time, at most an hour. */
export function afterFailedProbe(h: Hold, now: number): Hold {
  const wait = Math.min(h.lastWaitMs * 2, MAX_PROBE_WAIT_MS);
  return { ...h, probeId: null, probeDeadline: null, silentProbes: 0, lastWaitMs: wait, nextProbeAt: h.probing ? now + wait : null };
}

/** How many probes in a row may go unanswered, each sent again at once, before a silence counts as a failure. */
export const MAX_SILENT_PROBES = 2;

/**
 * A probe that never reported by its deadline (its run died mid-attempt, or
 * its message was lost): no answer is no failure, so it is due again now,
 * with the same wait. Silent again and again (a run that always dies): it
 * counts as failed, so the waits still grow.
 */
export function afterSilentProbe(h: Hold, now: number): Hold {
  const silent = (h.silentProbes ?? 0) + 1;
  if (silent > MAX_SILENT_PROBES) return afterFailedProbe(h, now);
  return { ...h, probeId: null, probeDeadline: null, silentProbes: silent, nextProbeAt: h.probing ? now : null };
}

/** Never probed again (PATCH isEnabled: false, or a 410); give-up still applies. */
export const stopProbing = (h: Hold): Hold => ({ ...h, probing: false, nextProbeAt: null, probeId: null, probeDeadline: null });

/** When the governor must next look at the hold, or null when nothing is left to do. */
export function nextWake(h: Hold | null): number | null {
  if (!h || h.gaveUp) return null;
  const probe = h.probing ? (h.probeId ? h.probeDeadline : h.nextProbeAt) : null;
  return probe === null ? h.giveUpAt : Math.min(probe, h.giveUpAt);
}

export type BreakerView = { state: "closed" | "open" | "half_open"; nextProbeAt: number | null };

/** What stats show: closed unless tripped; half-open while a probe is out; `nextProbeAt` only while open and probing. */
export function breakerView(trippedAt: number | null, h: Hold | null): BreakerView {
  if (trippedAt === null) return { state: "closed", nextProbeAt: null };
  if (h?.probeId) return { state: "half_open", nextProbeAt: null };
  return { state: "open", nextProbeAt: h && !h.gaveUp && h.probing ? h.nextProbeAt : null };
}
