import { afterEach, describe, expect, it, vi } from "vitest";
import type { Db } from "../../src/db/client";
import { cachedSubscribers, SUBSCRIBERS_TTL_MS, storeSubscriptionChange } from "../../src/db/webhook-store";
import type { WebhookRow } from "../../src/db/webhooks";

afterEach(() => vi.useRealTimers());

/** A stand-in for D1 whose subscriber reads answer when the test says so, and whose writes succeed. */
function pausedDb() {
  const reads: ((rows: unknown[]) => void)[] = [];
  const db = {
    select: () => ({ from: () => ({ where: () => ({ all: () => new Promise<unknown[]>((resolve) => reads.push(resolve)) }) }) }),
    update: () => ({ set: () => ({ where: () => ({}) }) }),
    batch: async (statements: unknown[]) => statements.map(() => ({ meta: { changes: 1 } })),
  } as unknown as Db;
  /** A change this isolate makes to one of the tenant's subscriptions, through the one write path. */
  const change = (tenant: string) => storeSubscriptionChange(db, tenant, "wh_x", { url: "https://new.example.com" }, {} as never);
  return { db, reads, change };
}
const urls = (rows: WebhookRow[]) => rows.map((w) => w.url);

let n = 0;
const subscription = (tenantId: string, url: string, mode = "live") => ({
  id: `wh_${++n}`,
  tenantId,
  mode,
  tenantIds: null,
  modes: null,
  url,
});

describe("the isolate's subscriber lists", () => {
  it("are served from the isolate until a change; a list read while a change was written is used once, never kept", async () => {
    const tenant = `ten_race${++n}`;
    const { db, reads, change } = pausedDb();
    const first = cachedSubscribers(db, tenant, "live");
    reads[0]!([subscription(tenant, "https://old.example.com")]);
    expect(urls(await first)).toEqual(["https://old.example.com"]);
    // Kept: the next publish reads nothing.
    expect(urls(await cachedSubscribers(db, tenant, "live"))).toEqual(["https://old.example.com"]);
    expect(reads).toHaveLength(1);

    // A change drops the list: the next publish reads again.
    await change(tenant);
    // That read is out when another change is written; it answers with the old row.
    const inFlight = cachedSubscribers(db, tenant, "live");
    await change(tenant);
    reads[1]!([subscription(tenant, "https://old.example.com")]);
    await inFlight;
    const after = cachedSubscribers(db, tenant, "live");
    expect(reads, "the next publish reads again").toHaveLength(3);
    reads[2]!([subscription(tenant, "https://new.example.com")]);
    expect(urls(await after)).toEqual(["https://new.example.com"]);
  });

  it("keep a list at most SUBSCRIBERS_TTL_MS (2 s) from the moment its read began", async () => {
    expect(SUBSCRIBERS_TTL_MS).toBeLessThanOrEqual(2_000);
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = 1_800_000_000_000;
    vi.setSystemTime(start);
    const tenant = `ten_ttl${++n}`;
    const { db, reads } = pausedDb();
    const first = cachedSubscribers(db, tenant, "live");
    // A slow read: it answers 1.5 s after it began.
    vi.setSystemTime(start + 1_500);
    reads[0]!([subscription(tenant, "https://a.example.com")]);
    await first;
    vi.setSystemTime(start + SUBSCRIBERS_TTL_MS - 1);
    await cachedSubscribers(db, tenant, "live");
    expect(reads).toHaveLength(1);
    vi.setSystemTime(start + SUBSCRIBERS_TTL_MS);
    const again = cachedSubscribers(db, tenant, "live");
    expect(reads).toHaveLength(2);
    reads[1]!([]);
    expect(await again).toEqual([]);
  });

  it("are kept per mode: a test-mode publish never gets the live list, and a change drops both", async () => {
    const tenant = `ten_modes${++n}`;
    const { db, reads, change } = pausedDb();
    const live = cachedSubscribers(db, tenant, "live");
    reads[0]!([subscription(tenant, "https://live.example.com"), subscription(tenant, "https://test.example.com", "test")]);
    expect(urls(await live)).toEqual(["https://live.example.com"]);
    const test = cachedSubscribers(db, tenant, "test");
    expect(reads, "the test list is read on its own").toHaveLength(2);
    reads[1]!([subscription(tenant, "https://live.example.com"), subscription(tenant, "https://test.example.com", "test")]);
    expect(urls(await test)).toEqual(["https://test.example.com"]);
    expect(urls(await cachedSubscribers(db, tenant, "test"))).toEqual(["https://test.example.com"]);
    expect(reads).toHaveLength(2);
    await change(tenant);
    void cachedSubscribers(db, tenant, "live");
    void cachedSubscribers(db, tenant, "test");
    expect(reads, "both lists are read again after a change").toHaveLength(4);
  });
});
