import { afterEach, describe, expect, it, vi } from "vitest";
import type { Db } from "../../src/db/client";
import { CATALOG_TTL_MS, cachedSubscribers, forgetCatalog } from "../../src/events/catalog-cache";

afterEach(() => vi.useRealTimers());

/** A stand-in for D1 whose subscriber reads answer when the test says so. */
function pausedDb() {
  const reads: ((rows: unknown[]) => void)[] = [];
  const db = {
    select: () => ({ from: () => ({ where: () => ({ all: () => new Promise<unknown[]>((resolve) => reads.push(resolve)) }) }) }),
  } as unknown as Db;
  return { db, reads };
}

let n = 0;
const subscription = (tenantId: string, url: string) => ({ id: `wh_${++n}`, tenantId, tenantIds: null, url });

describe("the isolate's subscriber lists", () => {
  it("are served from the isolate until a change; a list read while a change was written is used once, never kept", async () => {
    const tenant = `ten_race${++n}`;
    const { db, reads } = pausedDb();
    const first = cachedSubscribers(db, tenant);
    reads[0]!([subscription(tenant, "https://old.example.com")]);
    expect((await first).map((w) => w.url)).toEqual(["https://old.example.com"]);
    // Kept: the next publish reads nothing.
    expect((await cachedSubscribers(db, tenant)).map((w) => w.url)).toEqual(["https://old.example.com"]);
    expect(reads).toHaveLength(1);

    forgetCatalog(tenant);
    // A read starts, the subscription changes (and the change's write drops the lists), then the read answers with the old row.
    const inFlight = cachedSubscribers(db, tenant);
    forgetCatalog(tenant);
    reads[1]!([subscription(tenant, "https://old.example.com")]);
    await inFlight;
    const after = cachedSubscribers(db, tenant);
    expect(reads, "the next publish reads again").toHaveLength(3);
    reads[2]!([subscription(tenant, "https://new.example.com")]);
    expect((await after).map((w) => w.url)).toEqual(["https://new.example.com"]);
  });

  it("keep a list at most CATALOG_TTL_MS (2 s) from the moment its read began", async () => {
    expect(CATALOG_TTL_MS).toBeLessThanOrEqual(2_000);
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = 1_800_000_000_000;
    vi.setSystemTime(start);
    const tenant = `ten_ttl${++n}`;
    const { db, reads } = pausedDb();
    const first = cachedSubscribers(db, tenant);
    // A slow read: it answers 1.5 s after it began.
    vi.setSystemTime(start + 1_500);
    reads[0]!([subscription(tenant, "https://a.example.com")]);
    await first;
    vi.setSystemTime(start + CATALOG_TTL_MS - 1);
    await cachedSubscribers(db, tenant);
    expect(reads).toHaveLength(1);
    vi.setSystemTime(start + CATALOG_TTL_MS);
    const again = cachedSubscribers(db, tenant);
    expect(reads).toHaveLength(2);
    reads[1]!([]);
    expect(await again).toEqual([]);
  });
});
