import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import {
  afterFailedProbe,
  afterSilentProbe,
  breakerPlan,
  breakerView,
  type Hold,
  MAX_PROBE_WAIT_MS,
  MAX_SILENT_PROBES,
  nextWake,
  openHold,
  stopProbing,
} from "../../src/delivery/breaker/breaker-schedule";
import { TEST_SECRETS } from "../test-secrets";

const plan = { probeMs: 60_000, giveUpMs: 72 * 3_600_000 };
const who = { webhookId: "wh_1", ownerId: "ten_1" };
const T0 = 1_700_000_000_000;

describe("the probe schedule", () => {
  it("a trip probes BREAKER_PROBE_SECONDS later and gives up BREAKER_GIVE_UP_HOURS later", () => {
    const h = openHold(who, "circuit_breaker", plan, T0);
    expect(h).toMatchObject({ probing: true, nextProbeAt: T0 + 60_000, since: T0, giveUpAt: T0 + 72 * 3_600_000, gaveUp: false });
    expect(nextWake(h)).toBe(T0 + 60_000);
  });

  it("each failed probe doubles the wait, capped at one hour", () => {
    let h: Hold = openHold(who, "circuit_breaker", plan, T0);
    const waits: number[] = [];
    let now = T0;
    for (let i = 0; i < 9; i++) {
      now = h.nextProbeAt!;
      h = afterFailedProbe({ ...h, probeId: "dlv_x", probeDeadline: now + 70_000 }, now);
      waits.push(h.nextProbeAt! - now);
      expect(h.probeId).toBeNull();
    }
    expect(waits).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(Math.max(...waits)).toBe(MAX_PROBE_WAIT_MS);
  });

  it("a 410 or a switch-off is never probed, but still gives up", () => {
    for (const cause of ["gone", "manual"] as const) {
      const h = openHold(who, cause, plan, T0);
      expect(h).toMatchObject({ probing: false, nextProbeAt: null });
      expect(nextWake(h)).toBe(T0 + plan.giveUpMs);
      expect(afterFailedProbe(h, T0 + 1).nextProbeAt).toBeNull();
    }
    const stopped = stopProbing({ ...openHold(who, "circuit_breaker", plan, T0), probeId: "dlv_x", probeDeadline: T0 + 5 });
    expect(stopped).toMatchObject({ probing: false, nextProbeAt: null, probeId: null });
    expect(nextWake(stopped)).toBe(T0 + plan.giveUpMs);
  });

  it("a probe with no answer is due again at once with the same wait; only silence after silence counts as failed", () => {
    const out = (h: Hold, at: number): Hold => ({ ...h, probeId: "dlv_x", probeDeadline: at + 70_000 });
    let h: Hold = openHold(who, "circuit_breaker", plan, T0);
    let now = T0 + 60_000;
    for (let i = 1; i <= MAX_SILENT_PROBES; i++) {
      h = afterSilentProbe(out(h, now), now + 70_000);
      now += 70_000;
      expect(h).toMatchObject({ probeId: null, probeDeadline: null, nextProbeAt: now, lastWaitMs: 60_000, silentProbes: i });
      expect(nextWake(h)).toBe(now);
    }
    const silentAgain = afterSilentProbe(out(h, now), now + 70_000);
    expect(silentAgain).toMatchObject({ nextProbeAt: now + 70_000 + 120_000, lastWaitMs: 120_000, silentProbes: 0 });
    // An answer (a failure) starts the count afresh.
    const answered = afterFailedProbe(out(h, now), now + 1);
    expect(answered.silentProbes).toBe(0);
    expect(afterSilentProbe(out(answered, now), now + 2)).toMatchObject({ nextProbeAt: now + 2, silentProbes: 1 });
    // A hold stored before silences were counted has none so far.
    const legacy = { ...out(openHold(who, "circuit_breaker", plan, T0), T0) } as Hold;
    delete legacy.silentProbes;
    expect(afterSilentProbe(legacy, T0 + 1)).toMatchObject({ nextProbeAt: T0 + 1, silentProbes: 1, lastWaitMs: 60_000 });
    // Not probing (switched off meanwhile): nothing is due.
    expect(afterSilentProbe(stopProbing(out(h, now)), now + 1).nextProbeAt).toBeNull();
  });

  it("wakes for the probe's deadline while one is out, never after give-up, and not at all once given up", () => {
    const h = { ...openHold(who, "circuit_breaker", plan, T0), probeId: "dlv_x", probeDeadline: T0 + 130_000 };
    expect(nextWake(h)).toBe(T0 + 130_000);
    expect(nextWake({ ...h, probeDeadline: T0 + plan.giveUpMs + 1 })).toBe(T0 + plan.giveUpMs);
    expect(nextWake({ ...h, gaveUp: true })).toBeNull();
    expect(nextWake(null)).toBeNull();
  });
});

describe("the breaker's state in stats", () => {
  const open = openHold(who, "circuit_breaker", plan, T0);
  it("closed unless tripped", () => {
    expect(breakerView(null, null)).toEqual({ state: "closed", nextProbeAt: null });
    expect(breakerView(null, openHold(who, "manual", plan, T0))).toEqual({ state: "closed", nextProbeAt: null });
  });
  it("open with the next probe time; half_open while a probe is out", () => {
    expect(breakerView(T0, open)).toEqual({ state: "open", nextProbeAt: T0 + 60_000 });
    expect(breakerView(T0, { ...open, probeId: "dlv_x", probeDeadline: T0 + 1 })).toEqual({ state: "half_open", nextProbeAt: null });
  });
  it("open without a probe time when switched off or given up", () => {
    expect(breakerView(T0, stopProbing(open))).toEqual({ state: "open", nextProbeAt: null });
    expect(breakerView(T0, { ...open, gaveUp: true })).toEqual({ state: "open", nextProbeAt: null });
  });
});

describe("BREAKER_PROBE_SECONDS and BREAKER_GIVE_UP_HOURS", () => {
  const configOf = (vars: Record<string, string>) => loadConfig({ ...TEST_SECRETS, ...vars } as unknown as Env);
  it("default to 60 s and 72 h", () => {
    const c = configOf({});
    expect(c.ok && breakerPlan(c.config)).toEqual({ probeMs: 60_000, giveUpMs: 72 * 3_600_000 });
  });
  it("take integers in range", () => {
    const c = configOf({ BREAKER_PROBE_SECONDS: "5", BREAKER_GIVE_UP_HOURS: "1" });
    expect(c.ok && breakerPlan(c.config)).toEqual({ probeMs: 5_000, giveUpMs: 3_600_000 });
  });
  it("refuse anything else, naming the variable", () => {
    const refused: Record<string, string>[] = [
      { BREAKER_PROBE_SECONDS: "0" },
      { BREAKER_PROBE_SECONDS: "3601" },
      { BREAKER_GIVE_UP_HOURS: "1.5" },
      { BREAKER_GIVE_UP_HOURS: "x" },
    ];
    for (const vars of refused) {
      const c = configOf(vars);
      expect(c.ok).toBe(false);
      if (!c.ok) expect(c.problems.join(" ")).toContain(Object.keys(vars)[0]);
    }
  });
});
