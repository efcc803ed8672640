import { describe, expect, it } from "vitest";
import { gcra, policyName, type Tat, type Window } from "../../src/ratelimit/gcra";

/** A tiny driver: one limiter's stored TAT, fed requests at chosen times. */
function limiter(w: Window) {
  let tat: Tat | undefined;
  return {
    hit(now: number) {
      const d = gcra(tat, now, w);
      // A refusal leaves the stored state as it was.
      if (!d.allowed) expect(d.tat).toEqual(tat);
      tat = d.tat;
      return d;
    },
    get tat() {
      return tat;
    },
  };
}

const T0 = 1_750_000_000_000;

describe("gcra burst", () => {
  it.each([
    { limit: 1, windowSeconds: 1 },
    { limit: 2, windowSeconds: 2 },
    { limit: 30, windowSeconds: 60 },
    { limit: 60, windowSeconds: 60 },
    { limit: 7, windowSeconds: 60 },
    { limit: 100, windowSeconds: 90 },
    { limit: 5, windowSeconds: 3600 },
  ])("admits exactly $limit at once for $limit/$windowSeconds s, then refuses", (w) => {
    const l = limiter(w);
    for (let i = 0; i < w.limit; i++) {
      const d = l.hit(T0);
      expect(d.allowed, `request ${i + 1}`).toBe(true);
      expect(d.remaining).toBe(w.limit - i - 1);
    }
    const tatAfterBurst = l.tat;
    for (let i = 0; i < 3; i++) {
      const d = l.hit(T0);
      expect(d.allowed).toBe(false);
      expect(d.remaining).toBe(0);
      // A refusal does not move the stored state.
      expect(d.tat).toEqual(tatAfterBurst);
    }
  });

  it("is exact whatever window/limit is (no float drift next to epoch timestamps)", () => {
    // Regression: with the TAT kept as float ms, 3/2s, 7/10s, 9/60s... admitted one short.
    const misses: string[] = [];
    for (let limit = 1; limit <= 200; limit++) {
      for (const windowSeconds of [1, 2, 3, 10, 60, 90, 3600, 86_400]) {
        const w = { limit, windowSeconds };
        for (const t0 of [T0, T0 + 123, 1_893_456_000_007]) {
          const l = limiter(w);
          const remaining: number[] = [];
          for (let i = 0; i <= limit; i++) {
            const d = l.hit(t0);
            if (d.allowed) remaining.push(d.remaining);
          }
          const expected = Array.from({ length: limit }, (_, i) => limit - 1 - i);
          if (JSON.stringify(remaining) !== JSON.stringify(expected)) misses.push(`${limit}/${windowSeconds}s`);
          // Exactly one more after one interval, at the first millisecond it is due.
          const dueMs = Math.ceil((windowSeconds * 1000) / limit);
          if (!l.hit(t0 + dueMs).allowed) misses.push(`${limit}/${windowSeconds}s refill`);
        }
      }
    }
    expect(misses).toEqual([]);
  });

  it("is exact for large limits too", () => {
    for (const w of [
      { limit: 1_000_000, windowSeconds: 86_400 },
      { limit: 999_983, windowSeconds: 86_399 },
      { limit: 5_000, windowSeconds: 7 },
    ]) {
      const l = limiter(w);
      let admitted = 0;
      for (let i = 0; i <= w.limit; i++) if (l.hit(T0).allowed) admitted++;
      expect(admitted).toBe(w.limit);
      expect(l.hit(T0).remaining).toBe(0);
    }
  });

  it("counts remaining down one per admitted request", () => {
    const l = limiter({ limit: 5, windowSeconds: 10 });
    expect([1, 2, 3, 4, 5].map(() => l.hit(T0).remaining)).toEqual([4, 3, 2, 1, 0]);
  });

  it("treats a missing previous TAT and a TAT in the past alike (full bucket)", () => {
    const w = { limit: 10, windowSeconds: 60 };
    const fresh = gcra(undefined, T0, w);
    const stale = gcra([T0 - 3_600_000, 0], T0, w);
    expect(stale).toEqual(fresh);
    expect(fresh).toMatchObject({ allowed: true, remaining: 9, tat: [T0 + 6000, 0] });
  });
});

describe("gcra sliding window", () => {
  it("frees one slot every window/limit after a burst, not the whole window at once", () => {
    const w = { limit: 6, windowSeconds: 60 }; // one slot every 10 s
    const l = limiter(w);
    for (let i = 0; i < 6; i++) l.hit(T0);
    expect(l.hit(T0 + 9_999).allowed).toBe(false);
    const at10 = l.hit(T0 + 10_000);
    expect(at10.allowed).toBe(true);
    expect(at10.remaining).toBe(0);
    // Only that one: the next is refused until another interval has passed.
    expect(l.hit(T0 + 10_001).allowed).toBe(false);
    expect(l.hit(T0 + 19_999).allowed).toBe(false);
    expect(l.hit(T0 + 20_000).allowed).toBe(true);
    expect(l.hit(T0 + 20_000).allowed).toBe(false);
  });

  it("has no fixed-window edge: a burst straddling a whole-window boundary gets `limit`, not twice it", () => {
    const w = { limit: 10, windowSeconds: 10 };
    const l = limiter(w);
    let admitted = 0;
    for (let i = 0; i < 20; i++) if (l.hit(T0 + 9_999).allowed) admitted++;
    for (let i = 0; i < 20; i++) if (l.hit(T0 + 10_000).allowed) admitted++;
    expect(admitted).toBe(10);
  });

  it("never admits more than the burst plus one slot per interval elapsed (any span)", () => {
    const w = { limit: 10, windowSeconds: 10 };
    const intervalMs = 1000;
    const l = limiter(w);
    const admitted: number[] = [];
    const times: number[] = [];
    for (let t = 0; t <= 60_000; t += 100) times.push(T0 + t);
    for (const edge of [10_000, 20_000, 30_000]) for (let i = 0; i < 20; i++) times.push(T0 + edge - 1, T0 + edge);
    times.sort((a, b) => a - b);
    for (const t of times) if (l.hit(t).allowed) admitted.push(t);
    for (let i = 0; i < admitted.length; i++) {
      for (let j = i; j < admitted.length; j++) {
        const span = admitted[j]! - admitted[i]!;
        expect(j - i + 1).toBeLessThanOrEqual(w.limit + Math.floor(span / intervalMs));
      }
    }
    // The long-run rate is the configured one: the first burst, then one per second.
    expect(admitted.length).toBe(10 + 60);
  });

  it("refills to the full burst after a whole window of silence", () => {
    const w = { limit: 4, windowSeconds: 8 };
    const l = limiter(w);
    for (let i = 0; i < 4; i++) l.hit(T0);
    const later = T0 + 8_000;
    for (let i = 0; i < 4; i++) expect(l.hit(later).allowed).toBe(true);
    expect(l.hit(later).allowed).toBe(false);
  });
});

describe("gcra retry timing", () => {
  const windows: Window[] = [
    { limit: 1, windowSeconds: 1 },
    { limit: 2, windowSeconds: 2 },
    { limit: 3, windowSeconds: 2 },
    { limit: 3, windowSeconds: 1 },
    { limit: 7, windowSeconds: 60 },
    { limit: 30, windowSeconds: 60 },
    { limit: 60, windowSeconds: 60 },
    { limit: 100, windowSeconds: 90 },
    { limit: 13, windowSeconds: 17 },
    { limit: 1000, windowSeconds: 1 },
    { limit: 5, windowSeconds: 3600 },
  ];

  it("slotSeconds is never earlier than a slot actually frees, and a slot has freed by then", () => {
    for (const w of windows) {
      const intervalMs = (w.windowSeconds * 1000) / w.limit;
      // Refusals at many offsets into the interval after a full burst.
      for (const offsetFraction of [0, 0.01, 0.25, 0.5, 0.9, 0.999]) {
        const l = limiter(w);
        for (let i = 0; i < w.limit; i++) expect(l.hit(T0).allowed).toBe(true);
        const t = T0 + Math.floor(offsetFraction * intervalMs);
        const refused = gcra(l.tat, t, w);
        if (refused.allowed) continue; // offset landed exactly on a freed slot
        const label = `${w.limit}/${w.windowSeconds}s refused at +${t - T0} ms`;
        expect(refused.slotSeconds, label).toBeGreaterThanOrEqual(1);
        // Admitted at t + slotSeconds ...
        expect(gcra(l.tat, t + refused.slotSeconds * 1000, w).allowed, label).toBe(true);
        // ... and the hint is as tight as whole seconds allow: a slot has not freed a second earlier.
        if (refused.slotSeconds > 1) {
          expect(gcra(l.tat, t + (refused.slotSeconds - 1) * 1000, w).allowed, label).toBe(false);
        }
      }
    }
  });

  it("holds under a pseudo-random request stream for every window", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const w of windows) {
      const l = limiter(w);
      let t = T0;
      const intervalMs = (w.windowSeconds * 1000) / w.limit;
      for (let i = 0; i < 500; i++) {
        t += Math.floor(rand() * intervalMs * 1.5);
        const before = l.tat;
        const d = l.hit(t);
        if (!d.allowed) {
          const label = `${w.limit}/${w.windowSeconds}s at +${t - T0}`;
          expect(d.remaining, label).toBe(0);
          expect(gcra(before, t + d.slotSeconds * 1000, w).allowed, label).toBe(true);
          if (d.slotSeconds > 1) expect(gcra(before, t + (d.slotSeconds - 1) * 1000, w).allowed, label).toBe(false);
        } else {
          // When admitted with nothing left, the reset hint still points at a real slot.
          const after = l.tat;
          expect(gcra(after, t + d.slotSeconds * 1000, w).allowed).toBe(true);
        }
      }
    }
  });

  it("reports the interval, rounded up, after a burst", () => {
    const w = { limit: 30, windowSeconds: 60 };
    const l = limiter(w);
    for (let i = 0; i < 30; i++) l.hit(T0);
    expect(l.hit(T0).slotSeconds).toBe(2);
    expect(l.hit(T0 + 500).slotSeconds).toBe(2); // 1.5 s left → 2
    expect(l.hit(T0 + 1_000).slotSeconds).toBe(1);
    const w7 = { limit: 7, windowSeconds: 60 }; // 8.571 s per slot
    const l7 = limiter(w7);
    for (let i = 0; i < 7; i++) l7.hit(T0);
    expect(l7.hit(T0).slotSeconds).toBe(9);
  });

  it("slotSeconds is at least 1 even when slots free faster than a second", () => {
    const w = { limit: 1000, windowSeconds: 1 };
    const l = limiter(w);
    for (let i = 0; i < 1000; i++) l.hit(T0);
    const d = l.hit(T0);
    expect(d.allowed).toBe(false);
    expect(d.slotSeconds).toBe(1);
  });
});

describe("gcra fullResetSeconds", () => {
  it("is the time until every slot is free again", () => {
    const w = { limit: 10, windowSeconds: 60 };
    const l = limiter(w);
    const first = l.hit(T0);
    expect(first.fullResetSeconds).toBe(6); // one slot used: back in 6 s
    for (let i = 1; i < 10; i++) l.hit(T0);
    const refused = l.hit(T0);
    expect(refused.allowed).toBe(false);
    expect(refused.fullResetSeconds).toBe(60);
    // Half a window later five slots are free; taking one leaves 29.5 + 6 s to a full bucket.
    const half = l.hit(T0 + 30_500);
    expect(half.allowed).toBe(true);
    expect(half.remaining).toBe(4);
    expect(half.fullResetSeconds).toBe(36);
  });

  it("matches a full refill: after fullResetSeconds the whole burst is available", () => {
    for (const w of [
      { limit: 3, windowSeconds: 2 },
      { limit: 7, windowSeconds: 60 },
      { limit: 100, windowSeconds: 90 },
    ]) {
      const l = limiter(w);
      let last = l.hit(T0);
      for (let i = 1; i < w.limit; i++) last = l.hit(T0 + i);
      const t = T0 + w.limit - 1;
      const later = t + last.fullResetSeconds * 1000;
      const check = gcra(l.tat, later, w);
      expect(check.remaining + (check.allowed ? 1 : 0)).toBe(w.limit);
      // One second earlier the bucket was not yet full.
      const earlier = gcra(l.tat, later - 1000, w);
      expect(earlier.remaining + (earlier.allowed ? 1 : 0)).toBeLessThan(w.limit);
    }
  });
});

describe("policyName", () => {
  it.each([
    ["read", { limit: 60, windowSeconds: 60 }, "read:60/1m"],
    ["write", { limit: 30, windowSeconds: 60 }, "write:30/1m"],
    ["write", { limit: 100, windowSeconds: 90 }, "write:100/90s"],
    ["x", { limit: 5, windowSeconds: 3600 }, "x:5/1h"],
    ["read", { limit: 3, windowSeconds: 2 }, "read:3/2s"],
    ["read", { limit: 1, windowSeconds: 7200 }, "read:1/2h"],
    ["token", { limit: 20, windowSeconds: 120 }, "token:20/2m"],
    ["read", { limit: 9, windowSeconds: 5400 }, "read:9/90m"],
  ] as const)("%s %o → %s", (bucket, w, expected) => {
    expect(policyName(bucket, w)).toBe(expected);
  });
});
