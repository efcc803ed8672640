import { describe, expect, it } from "vitest";
import { charge } from "../../src/ratelimit/approximate/spend";
import { gcra, type Tat } from "../../src/ratelimit/gcra";

const w = { limit: 10, windowSeconds: 60 };
const T0 = 1_800_000_000_000;

describe("charge: an isolate's admissions recorded in the object", () => {
  it("records what was admitted as the same GCRA would have: the bucket then admits the rest", () => {
    const tat = charge(undefined, T0, w, 4);
    let admitted = 0;
    let t: Tat = tat;
    for (let i = 0; i < 10; i++) {
      const d = gcra(t, T0, w);
      if (d.allowed) admitted++;
      t = d.tat;
    }
    expect(admitted).toBe(6);
  });

  it("matches gcra's stored time for admissions that fit", () => {
    let viaGcra: Tat | undefined;
    for (let i = 0; i < 3; i++) viaGcra = gcra(viaGcra, T0, w).tat;
    expect(charge(undefined, T0, w, 3)).toEqual(viaGcra);
  });

  it("records admissions past the limit (several isolates), so later windows pay them back, up to two windows", () => {
    const over = charge(undefined, T0, w, 15);
    // 15 slots of 6 s are 90 s of the 60 s bucket: a slot is free again once 36 s have passed.
    expect(gcra(over, T0 + 35_999, w).allowed).toBe(false);
    expect(gcra(over, T0 + 36_000, w).allowed).toBe(true);
    const capped = charge(undefined, T0, w, 1_000);
    expect(capped[0] - T0).toBe(120_000);
  });

  it("a stale arrival time in the past counts from now", () => {
    expect(charge([T0 - 500_000, 0], T0, w, 1)).toEqual([T0 + 6_000, 0]);
  });
});
