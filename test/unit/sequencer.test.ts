import { describe, expect, it } from "vitest";
import {
  clearLines,
  confirm,
  decide,
  FAR_RECHECK_MS,
  NEXT_RECHECK_MS,
  NO_KEY,
  RELEASED_KEEP_MS,
  register,
  release,
  STALE_HEAD_MS,
  type TurnEntry,
  type TurnRequest,
  type TurnStore,
} from "../../src/delivery/ordering/sequencer";

/** The governor's SQLite store, in memory: the same contract (lines in seq order, released rows kept until purged). */
function memoryStore(): TurnStore & { rows: Map<string, TurnEntry> } {
  const rows = new Map<string, TurnEntry>();
  let seq = 0;
  const inLine = (key: string) => [...rows.values()].filter((e) => e.key === key && e.releasedAt === null).sort((a, b) => a.seq - b.seq);
  return {
    rows,
    get: (id) => (rows.has(id) ? { ...rows.get(id)! } : null),
    head: (key) => {
      const first = inLine(key)[0];
      return first ? { ...first } : null;
    },
    ahead: (key, s) => inLine(key).filter((e) => e.seq < s).length,
    append: (r, now) => {
      const entry = { ...r, seq: ++seq, seenAt: now, releasedAt: null };
      rows.set(r.deliveryId, entry);
      return { ...entry };
    },
    touch: (id, now) => {
      const e = rows.get(id);
      if (e) e.seenAt = now;
    },
    markReleased: (id, now) => {
      const e = rows.get(id);
      if (e) e.releasedAt = now;
    },
    purgeReleased: (before) => {
      for (const [id, e] of rows) if (e.releasedAt !== null && e.releasedAt < before) rows.delete(id);
    },
    clear: () => rows.clear(),
  };
}

const req = (deliveryId: string, key: string = NO_KEY): TurnRequest => ({ deliveryId, key, owner: "ten_a", eventTenantId: "ten_a" });
const T0 = 1_000_000;

describe("sequencer: one line per key", () => {
  it("registers in acceptance order: the first of a key holds the turn, the rest wait behind it (FIFO)", () => {
    const s = memoryStore();
    const places = register(s, [req("d1", "a"), req("d2", "a"), req("d3", "a")], T0);
    expect(places.map((p) => p.head)).toEqual([true, false, false]);
    // Right behind the head comes back soon if nobody wakes it; further back is only a safety net.
    expect(places.map((p) => p.recheckMs)).toEqual([0, NEXT_RECHECK_MS, FAR_RECHECK_MS]);
    expect(decide(s, req("d1", "a"), T0 + 1)).toEqual({ kind: "go" });
    expect(decide(s, req("d3", "a"), T0 + 1)).toEqual({ kind: "wait", recheckMs: FAR_RECHECK_MS });
    expect(decide(s, req("d2", "a"), T0 + 1)).toEqual({ kind: "wait", recheckMs: NEXT_RECHECK_MS });
    // Each release hands the turn to the next in line, in order.
    expect(release(s, "d1", T0 + 2)).toEqual({ deliveryId: "d2", eventTenantId: "ten_a" });
    expect(decide(s, req("d3", "a"), T0 + 3).kind).toBe("wait");
    expect(decide(s, req("d2", "a"), T0 + 3)).toEqual({ kind: "go" });
    expect(release(s, "d2", T0 + 4)).toEqual({ deliveryId: "d3", eventTenantId: "ten_a" });
    expect(decide(s, req("d3", "a"), T0 + 5)).toEqual({ kind: "go" });
    expect(release(s, "d3", T0 + 6)).toBeNull();
  });

  it("keeps keys independent: each key's head goes at once, whatever the other lines hold", () => {
    const s = memoryStore();
    const places = register(s, [req("a1", "a"), req("b1", "b"), req("a2", "a"), req("b2", "b"), req("n1")], T0);
    expect(places.map((p) => [p.deliveryId, p.head])).toEqual([
      ["a1", true],
      ["b1", true],
      ["a2", false],
      ["b2", false],
      ["n1", true],
    ]);
    // Releasing a's head wakes a's next only.
    expect(release(s, "a1", T0 + 1)?.deliveryId).toBe("a2");
    expect(decide(s, req("b2", "b"), T0 + 1).kind).toBe("wait");
  });

  it("treats every event without a key as one key", () => {
    const s = memoryStore();
    const places = register(s, [req("n1"), req("n2"), req("k1", "k")], T0);
    expect(places.map((p) => p.head)).toEqual([true, false, true]);
    expect(decide(s, req("n2"), T0 + 1).kind).toBe("wait");
  });

  it("a failing head holds only its own key: its retries keep the turn, other keys move on", () => {
    const s = memoryStore();
    register(s, [req("a1", "a"), req("a2", "a"), req("b1", "b"), req("b2", "b")], T0);
    // a1's first attempt, then its retry: it is still the head each time.
    expect(decide(s, req("a1", "a"), T0 + 1).kind).toBe("go");
    expect(decide(s, req("a1", "a"), T0 + 30_000).kind).toBe("go");
    expect(decide(s, req("a2", "a"), T0 + 30_001).kind).toBe("wait");
    expect(release(s, "b1", T0 + 30_002)?.deliveryId).toBe("b2");
    expect(decide(s, req("b2", "b"), T0 + 30_003).kind).toBe("go");
    expect(decide(s, req("a2", "a"), T0 + 30_004).kind).toBe("wait");
  });

  it("a head that fails for good or is cancelled releases the next; a waiter cancelled leaves without waking anyone", () => {
    const s = memoryStore();
    register(s, [req("d1"), req("d2"), req("d3")], T0);
    // d2 (a waiter) is cancelled: nobody is woken, and d3 moves up.
    expect(release(s, "d2", T0 + 1)).toBeNull();
    expect(decide(s, req("d3"), T0 + 2)).toEqual({ kind: "wait", recheckMs: NEXT_RECHECK_MS });
    // d1 fails for good: d3 holds the turn.
    expect(release(s, "d1", T0 + 3)?.deliveryId).toBe("d3");
  });

  it("is idempotent: registering again keeps the place, releasing twice wakes once", () => {
    const s = memoryStore();
    register(s, [req("d1"), req("d2")], T0);
    const again = register(s, [req("d2"), req("d1")], T0 + 5);
    expect(again.map((p) => [p.deliveryId, p.head])).toEqual([
      ["d2", false],
      ["d1", true],
    ]);
    expect(release(s, "d1", T0 + 6)?.deliveryId).toBe("d2");
    expect(release(s, "d1", T0 + 7)).toBeNull();
    expect(release(s, "unknown", T0 + 7)).toBeNull();
  });

  it("lets a delivery that already left its line go (a late duplicate, a manual re-send) without queueing it again", () => {
    const s = memoryStore();
    register(s, [req("d1"), req("d2")], T0);
    release(s, "d1", T0 + 1);
    expect(decide(s, req("d1"), T0 + 2)).toEqual({ kind: "go" });
    // It did not take d2's turn.
    expect(s.head(NO_KEY)?.deliveryId).toBe("d2");
    // Forgotten after RELEASED_KEEP_MS (the next release purges it).
    release(s, "d2", T0 + RELEASED_KEEP_MS + 10);
    expect(s.get("d1")).toBeNull();
  });

  it("joins a delivery it never saw (its subscription became ordered since) at the end of its line", () => {
    const s = memoryStore();
    register(s, [req("d1", "a")], T0);
    expect(decide(s, req("late", "a"), T0 + 1)).toEqual({ kind: "wait", recheckMs: NEXT_RECHECK_MS });
    expect(decide(s, req("alone", "b"), T0 + 1)).toEqual({ kind: "go" });
  });
});

describe("sequencer: a crashed or lost holder", () => {
  it("checks a head silent past STALE_HEAD_MS: still pending keeps it, settled or gone passes the turn", () => {
    const s = memoryStore();
    register(s, [req("d1"), req("d2"), req("d3")], T0);
    expect(decide(s, req("d1"), T0 + 10).kind).toBe("go");
    // Within the window the waiter just waits.
    expect(decide(s, req("d2"), T0 + 10 + STALE_HEAD_MS).kind).toBe("wait");
    const later = T0 + 11 + STALE_HEAD_MS;
    const check = decide(s, req("d2"), later);
    expect(check).toMatchObject({ kind: "check", head: { deliveryId: "d1", owner: "ten_a", eventTenantId: "ten_a" } });
    // Its shard says it is still pending (a long retry delay): it keeps the turn, seen now.
    expect(confirm(s, "d1", true, later)).toBeNull();
    expect(decide(s, req("d2"), later + 1).kind).toBe("wait");
    // Later, its settle never reached the governor (the isolate died): the shard says settled.
    const muchLater = later + STALE_HEAD_MS + 1;
    expect(decide(s, req("d3"), muchLater).kind).toBe("check");
    expect(confirm(s, "d1", false, muchLater)).toEqual({ deliveryId: "d2", eventTenantId: "ten_a" });
    expect(decide(s, req("d2"), muchLater + 1)).toEqual({ kind: "go" });
  });

  it("gives a woken delivery the full window before anyone checks on it", () => {
    const s = memoryStore();
    register(s, [req("d1"), req("d2"), req("d3")], T0);
    const woken = T0 + 10 * STALE_HEAD_MS;
    expect(release(s, "d1", woken)?.deliveryId).toBe("d2");
    expect(decide(s, req("d3"), woken + STALE_HEAD_MS).kind).toBe("wait");
    expect(decide(s, req("d3"), woken + STALE_HEAD_MS + 1).kind).toBe("check");
  });

  it("a registration whose publish stored nothing is released like a settled head", () => {
    const s = memoryStore();
    register(s, [req("phantom", "k")], T0);
    register(s, [req("real", "k")], T0 + 1);
    expect(release(s, "phantom", T0 + 2)?.deliveryId).toBe("real");
  });

  it("clears every line when the subscription's pending deliveries were all cancelled", () => {
    const s = memoryStore();
    register(s, [req("d1", "a"), req("d2", "a")], T0);
    clearLines(s);
    expect(s.rows.size).toBe(0);
    expect(decide(s, req("d3", "a"), T0 + 1)).toEqual({ kind: "go" });
  });
});
