import { describe, expect, it } from "vitest";
import { JITTER, MAX_DELAY_SECONDS, nextRetryDelay, totalAttempts } from "../../src/delivery/engine/retry-policy";
import { classifyError, parseRetryAfter } from "../../src/delivery/http/send";

const DEFAULT = [60, 300, 1800, 7200];
const ALMOST_ONE = 0.9999999999;

/** A deterministic PRNG (mulberry32), so "many runs" are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("nextRetryDelay: the default schedule 1m, 5m, 30m, 2h", () => {
  it("is 5 attempts in all", () => {
    expect(totalAttempts(DEFAULT)).toBe(5);
    expect(totalAttempts([10, 30])).toBe(3);
    expect(totalAttempts([10])).toBe(2);
  });

  it("with no jitter (random 0) returns exactly the scheduled delay after attempts 1..4", () => {
    expect(DEFAULT.map((_, i) => nextRetryDelay(DEFAULT, i + 1, null, () => 0))).toEqual([60, 300, 1800, 7200]);
  });

  it("with the largest jitter (random → 1) stays within +10%", () => {
    expect(DEFAULT.map((_, i) => nextRetryDelay(DEFAULT, i + 1, null, () => ALMOST_ONE))).toEqual([65, 329, 1979, 7919]);
    for (const [i, base] of DEFAULT.entries()) {
      expect(nextRetryDelay(DEFAULT, i + 1, null, () => ALMOST_ONE)!).toBeLessThanOrEqual(Math.floor(base * (1 + JITTER)));
    }
  });

  it("returns null once the schedule is used up (after attempt 5)", () => {
    expect(nextRetryDelay(DEFAULT, 5, null, () => 0)).toBeNull();
    expect(nextRetryDelay(DEFAULT, 6, null, () => 0)).toBeNull();
    expect(nextRetryDelay(DEFAULT, 5, 900, () => 0)).toBeNull();
  });

  it("keeps every delay within [base, base * 1.1] over many random runs", () => {
    const windows: [number, number][] = [
      [60, 66],
      [300, 330],
      [1800, 1980],
      [7200, 7920],
    ];
    const random = seeded(42);
    const seen = windows.map(() => new Set<number>());
    for (let run = 0; run < 5000; run++) {
      for (const [i, [lo, hi]] of windows.entries()) {
        const d = nextRetryDelay(DEFAULT, i + 1, null, random)!;
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(lo);
        expect(d).toBeLessThanOrEqual(hi);
        seen[i]!.add(d);
      }
    }
    // Jitter really spreads: many distinct values for the long delays.
    expect(seen[2]!.size).toBeGreaterThan(100);
    expect(seen[3]!.size).toBeGreaterThan(500);
  });

  it("uses Math.random by default and still stays in bounds", () => {
    for (let run = 0; run < 2000; run++) {
      const d = nextRetryDelay(DEFAULT, 2)!;
      expect(d).toBeGreaterThanOrEqual(300);
      expect(d).toBeLessThanOrEqual(330);
    }
  });
});

describe("nextRetryDelay: a per-tenant schedule", () => {
  it("10s, 30s → 10..11, 30..33, then null", () => {
    const schedule = [10, 30];
    expect(nextRetryDelay(schedule, 1, null, () => 0)).toBe(10);
    expect(nextRetryDelay(schedule, 1, null, () => ALMOST_ONE)).toBe(10);
    expect(nextRetryDelay(schedule, 2, null, () => 0)).toBe(30);
    expect(nextRetryDelay(schedule, 2, null, () => ALMOST_ONE)).toBe(32);
    expect(nextRetryDelay(schedule, 3, null, () => 0)).toBeNull();
    const random = seeded(7);
    for (let run = 0; run < 2000; run++) {
      const a = nextRetryDelay(schedule, 1, null, random)!;
      const b = nextRetryDelay(schedule, 2, null, random)!;
      expect(a).toBeGreaterThanOrEqual(10);
      expect(a).toBeLessThanOrEqual(11);
      expect(b).toBeGreaterThanOrEqual(30);
      expect(b).toBeLessThanOrEqual(33);
    }
  });

  it("never waits less than 1 s nor more than 12 h", () => {
    expect(nextRetryDelay([1], 1, null, () => 0)).toBe(1);
    expect(nextRetryDelay([43_200], 1, null, () => ALMOST_ONE)).toBe(MAX_DELAY_SECONDS);
    expect(MAX_DELAY_SECONDS).toBe(43_200);
  });
});

describe("nextRetryDelay: Retry-After", () => {
  it("wins when longer than the scheduled delay", () => {
    expect(nextRetryDelay(DEFAULT, 1, 900, () => 0)).toBe(900);
    expect(nextRetryDelay(DEFAULT, 1, 900, () => ALMOST_ONE)).toBe(900);
    expect(nextRetryDelay(DEFAULT, 3, 3600, () => 0)).toBe(3600);
  });

  it("is ignored when shorter than the scheduled delay", () => {
    expect(nextRetryDelay(DEFAULT, 1, 5, () => 0)).toBe(60);
    expect(nextRetryDelay(DEFAULT, 4, 900, () => 0)).toBe(7200);
    expect(nextRetryDelay(DEFAULT, 2, 0, () => 0)).toBe(300);
  });

  it("is capped at 12 h", () => {
    expect(nextRetryDelay(DEFAULT, 1, 43_201, () => 0)).toBe(43_200);
    expect(nextRetryDelay(DEFAULT, 1, 10_000_000, () => ALMOST_ONE)).toBe(43_200);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-06-15T12:00:00Z");
  it("reads delta seconds", () => {
    expect(parseRetryAfter("900", now)).toBe(900);
    expect(parseRetryAfter(" 120 ", now)).toBe(120);
    expect(parseRetryAfter("0", now)).toBe(0);
  });
  it("reads an HTTP date", () => {
    expect(parseRetryAfter("Sun, 15 Jun 2025 12:15:00 GMT", now)).toBe(900);
    expect(parseRetryAfter("Sun, 15 Jun 2025 11:00:00 GMT", now)).toBe(0);
  });
  it("is null when absent or unreadable", () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("", now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
  it("never shortens or lengthens the schedule when garbled", () => {
    for (const garbled of ["-5", "soon", "", "1.5e3x"]) {
      expect(nextRetryDelay(DEFAULT, 1, parseRetryAfter(garbled, now), () => 0)).toBe(60);
    }
  });
});

describe("classifyError", () => {
  it("names timeouts, DNS, TLS and connection failures", () => {
    expect(classifyError(new DOMException("The operation timed out.", "TimeoutError"))).toBe("timeout");
    expect(classifyError(new DOMException("aborted", "AbortError"))).toBe("timeout");
    expect(classifyError(new TypeError("Network connection lost."))).toBe("connection");
    expect(classifyError(new TypeError("fetch failed: getaddrinfo ENOTFOUND hooks.example.com"))).toBe("dns");
    expect(classifyError(new Error("TLS handshake failed"))).toBe("tls");
    expect(classifyError("weird")).toBe("connection");
  });
});
