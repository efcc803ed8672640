import { describe, expect, it } from "vitest";
import type { SourceRow } from "../../src/db/sources";
import { SourceCache } from "../../src/sources/source-cache";

/**
 * The intake route's source cache: known and unknown ids are both
 * remembered for the same short time (so an unknown id costs no more reads
 * than a known one), a change or a creation is seen at once, and a flood of
 * made-up ids cannot push the live sources out.
 */
const TTL = 2_000;
const T0 = 1_700_000_000_000;

function store(rows: Record<string, Partial<SourceRow>> = {}) {
  const reads: string[] = [];
  const db = new Map(Object.entries(rows).map(([id, r]) => [id, { id, ...r } as SourceRow]));
  const load = async (id: string) => {
    reads.push(id);
    return db.get(id);
  };
  return { reads, db, load };
}

describe("SourceCache", () => {
  it("an unknown id is remembered as unknown, like a known one, until the time to live has passed", async () => {
    const cache = new SourceCache(TTL, 10, 10);
    const s = store({ src_known: { isEnabled: true } });
    expect(await cache.get("src_nope", s.load, T0)).toBeNull();
    expect((await cache.get("src_known", s.load, T0))?.id).toBe("src_known");
    expect(await cache.get("src_nope", s.load, T0 + TTL - 1)).toBeNull();
    expect((await cache.get("src_known", s.load, T0 + TTL - 1))?.id).toBe("src_known");
    expect(s.reads).toEqual(["src_nope", "src_known"]);
    // Expired: both are read again, and a source created meanwhile elsewhere is found.
    s.db.set("src_nope", { id: "src_nope" } as SourceRow);
    expect((await cache.get("src_nope", s.load, T0 + TTL))?.id).toBe("src_nope");
    expect((await cache.get("src_known", s.load, T0 + TTL))?.id).toBe("src_known");
    expect(s.reads).toEqual(["src_nope", "src_known", "src_nope", "src_known"]);
  });

  it("forget: a source created, disabled or deleted here is read again at once, known or not", async () => {
    const cache = new SourceCache(TTL, 10, 10);
    const s = store({ src_a: { isEnabled: true } });
    expect(await cache.get("src_new", s.load, T0)).toBeNull();
    s.db.set("src_new", { id: "src_new", isEnabled: true } as SourceRow);
    expect(await cache.get("src_new", s.load, T0 + 1)).toBeNull();
    cache.forget("src_new");
    expect((await cache.get("src_new", s.load, T0 + 2))?.id).toBe("src_new");

    expect((await cache.get("src_a", s.load, T0))?.isEnabled).toBe(true);
    s.db.set("src_a", { id: "src_a", isEnabled: false } as SourceRow);
    expect((await cache.get("src_a", s.load, T0 + 1))?.isEnabled).toBe(true);
    cache.forget("src_a");
    expect((await cache.get("src_a", s.load, T0 + 2))?.isEnabled).toBe(false);
    s.db.delete("src_a");
    cache.forget("src_a");
    expect(await cache.get("src_a", s.load, T0 + 3)).toBeNull();
  });

  it("is bounded: a flood of made-up ids pushes out only older made-up ids, never a live source", async () => {
    const cache = new SourceCache(TTL, 3, 5);
    const s = store({ src_live: { isEnabled: true } });
    await cache.get("src_live", s.load, T0);
    for (let i = 0; i < 50; i++) expect(await cache.get(`src_fake${i}`, s.load, T0)).toBeNull();
    s.reads.length = 0;
    expect((await cache.get("src_live", s.load, T0 + 1))?.id).toBe("src_live");
    // The 5 newest unknown ids are remembered; older ones were let go and are read again.
    for (let i = 45; i < 50; i++) await cache.get(`src_fake${i}`, s.load, T0 + 1);
    expect(s.reads).toEqual([]);
    await cache.get("src_fake0", s.load, T0 + 1);
    expect(s.reads).toEqual(["src_fake0"]);
  });
});
