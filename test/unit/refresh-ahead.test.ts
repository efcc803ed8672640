import { afterEach, describe, expect, it, vi } from "vitest";
import { RefreshAheadCache } from "../../src/lib/refresh-ahead";

afterEach(() => vi.restoreAllMocks());

function clock() {
  let now = 1_000_000;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  return { advance: (ms: number) => (now += ms) };
}

describe("RefreshAheadCache", () => {
  it("serves a fresh value without reading; past refreshMs reads again in the background, once", async () => {
    const t = clock();
    const cache = new RefreshAheadCache<number>(500, 1000, 10);
    let reads = 0;
    const read = async () => ++reads;
    const later: Promise<unknown>[] = [];
    const background = (p: Promise<unknown>) => later.push(p);
    expect(await cache.load("k", read, background)).toBe(1);
    t.advance(499);
    expect(await cache.load("k", read, background)).toBe(1);
    expect(later).toHaveLength(0);
    t.advance(1);
    // Two requests at once: both served the held value, one read started.
    expect(await Promise.all([cache.load("k", read, background), cache.load("k", read, background)])).toEqual([1, 1]);
    expect(later).toHaveLength(1);
    await Promise.all(later);
    expect(await cache.load("k", read, background)).toBe(2);
  });

  it("without background, or past ttlMs, the caller waits for the read", async () => {
    const t = clock();
    const cache = new RefreshAheadCache<number>(500, 1000, 10);
    let reads = 0;
    const read = async () => ++reads;
    await cache.load("k", read);
    t.advance(900);
    expect(await cache.load("k", read)).toBe(1);
    t.advance(100);
    expect(await cache.load("k", read, () => {})).toBe(2);
  });

  it("a delete voids a read in flight; undefined is never kept", async () => {
    clock();
    const cache = new RefreshAheadCache<string | undefined>(500, 1000, 10);
    let release!: () => void;
    const slow = cache.load("k", () => new Promise<string>((r) => (release = () => r("old"))));
    cache.delete("k");
    release();
    expect(await slow).toBe("old");
    expect(cache.get("k")).toBeUndefined();
    await cache.load("gone", async () => undefined);
    expect(await cache.load("gone", async () => "found")).toBe("found");
  });
});
