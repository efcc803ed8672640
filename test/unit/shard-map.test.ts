import { describe, expect, it } from "vitest";
import { coveredShards, type DataTenant, nextShardHistory, objectOfId, placeEvent } from "../../src/data/placement";
import {
  BUCKET_EPOCH,
  BUCKET_MS,
  bucketOf,
  bucketStart,
  hash32,
  liveBuckets,
  locate,
  locatedId,
  MAX_DATA_SHARDS,
  modeOfId,
  objectName,
  retentionDaysOf,
  TEST_RETENTION_DAYS,
} from "../../src/data/shard-map";

const tenant = (over: Partial<DataTenant> = {}): DataTenant => ({
  id: "ten_abc",
  mode: "live",
  dataShards: 1,
  maxDataShards: 1,
  shardHistory: null,
  ...over,
});

describe("buckets", () => {
  it("are UTC days from 2024-01-01", () => {
    expect(bucketOf(BUCKET_EPOCH)).toBe(0);
    expect(bucketOf(BUCKET_EPOCH + BUCKET_MS - 1)).toBe(0);
    expect(bucketOf(BUCKET_EPOCH + BUCKET_MS)).toBe(1);
    expect(bucketOf(Date.UTC(2026, 11, 1, 23, 59))).toBe(bucketOf(Date.UTC(2026, 11, 1, 0, 0)));
    expect(bucketStart(bucketOf(Date.UTC(2026, 11, 1, 13)))).toBe(Date.UTC(2026, 11, 1));
  });

  it("live buckets run from today back to the retention horizon, newest first, narrowed by since/until", () => {
    const now = Date.UTC(2026, 11, 10, 12);
    const today = bucketOf(now);
    expect(liveBuckets(now, 3)).toEqual([today, today - 1, today - 2, today - 3]);
    expect(liveBuckets(now, 30)).toHaveLength(31);
    expect(liveBuckets(now, 30, { since: new Date(Date.UTC(2026, 11, 9, 5)) })).toEqual([today, today - 1]);
    expect(liveBuckets(now, 30, { until: new Date(Date.UTC(2026, 11, 8, 5)), since: new Date(Date.UTC(2026, 11, 7)) })).toEqual([
      today - 2,
      today - 3,
    ]);
  });
});

describe("located ids", () => {
  it("say their bucket and shard, and round-trip", () => {
    for (const where of [
      { bucket: 0, shard: 0 },
      { bucket: 1065, shard: 7 },
      { bucket: 62 ** 3 - 1, shard: MAX_DATA_SHARDS - 1 },
    ]) {
      const id = locatedId("evt", where);
      expect(id).toMatch(/^evt_[0-9A-Za-z]{21}$/);
      expect(locate(id, "evt")).toEqual(where);
    }
  });

  it("an operator endpoint's delivery id also names the tenant whose shard holds it", () => {
    const id = locatedId("dlv", { bucket: 1065, shard: 3, home: "ten_8Jd02kLmQpZx4RtYvB1c" });
    expect(id).toMatch(/^dlv_[0-9A-Za-z]{21}_8Jd02kLmQpZx4RtYvB1c$/);
    expect(locate(id, "dlv")).toEqual({ bucket: 1065, shard: 3, home: "ten_8Jd02kLmQpZx4RtYvB1c" });
    expect(id.length).toBeLessThanOrEqual(64);
  });

  it("anything else locates nowhere (an unknown id: 404)", () => {
    const id = locatedId("evt", { bucket: 1, shard: 1 });
    for (const bad of [
      "",
      "evt_",
      "dlv_doesnotexist0000000",
      id.replace("evt_", "dlv_"),
      `${id}x`,
      `${id}_`,
      "evt_000zz0000000000000000",
      `${id.slice(0, -1)}-`,
    ]) {
      expect(locate(bad, "evt"), bad).toBeNull();
    }
    // Shard 64 and above do not exist.
    expect(locate(`evt_000${"12"}${"0".repeat(16)}`, "evt")).toBeNull();
  });

  it("ids are unique: 16 random base62 characters", () => {
    const ids = new Set(Array.from({ length: 2000 }, () => locatedId("evt", { bucket: 5, shard: 2 })));
    expect(ids.size).toBe(2000);
  });

  it("object names carry tenant, bucket and shard", () => {
    expect(objectName("ten_abc", { bucket: 1065, shard: 3 })).toBe("ten_abc/1065/3");
  });
});

describe("placement", () => {
  const now = Date.UTC(2026, 11, 1, 10);

  it("FNV-1a: stable across runs and releases (the spread of keys must never change)", () => {
    expect(hash32("")).toBe(0x811c9dc5);
    expect(hash32("a")).toBe(0xe40c292c);
    expect(hash32("foobar")).toBe(0xbf9cf968);
  });

  it("a keyed event goes to the key's shard; unkeyed ones spread over dataShards", () => {
    const t = tenant({ dataShards: 8, maxDataShards: 8 });
    const a = placeEvent(t, now, "order-1");
    expect(a.shard).toBe(hash32("order-1") % 8);
    expect(placeEvent(t, now + 3_600_000, "order-1").shard).toBe(a.shard);
    expect(a.name).toBe(`ten_abc/${bucketOf(now)}/${a.shard}`);
    const shards = new Set(Array.from({ length: 400 }, () => placeEvent(t, now).shard));
    expect(shards.size).toBe(8);
    expect(placeEvent(t, now).elsewhere).toEqual([]);
  });

  it("a keyed publish also asks yesterday's object and the key's shard under a count changed within 24 h", () => {
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => hash32(k) % 8 !== hash32(k) % 2)!;
    const b = bucketOf(now);
    const plain = placeEvent(tenant({ dataShards: 8, maxDataShards: 8 }), now, key);
    expect(plain.elsewhere).toEqual([`ten_abc/${b - 1}/${hash32(key) % 8}`]);
    const changed = placeEvent(
      tenant({ dataShards: 8, maxDataShards: 8, shardHistory: [{ shards: 2, until: now - 3_600_000 }] }),
      now,
      key,
    );
    expect(new Set(changed.elsewhere)).toEqual(
      new Set([`ten_abc/${b - 1}/${hash32(key) % 8}`, `ten_abc/${b}/${hash32(key) % 2}`, `ten_abc/${b - 1}/${hash32(key) % 2}`]),
    );
    // A count that ended more than a day ago can hold no live claim.
    const old = placeEvent(
      tenant({ dataShards: 8, maxDataShards: 8, shardHistory: [{ shards: 2, until: now - 2 * BUCKET_MS }] }),
      now,
      key,
    );
    expect(old.elsewhere).toEqual(plain.elsewhere);
  });

  it("reads cover every shard the tenant ever had", () => {
    expect(coveredShards(tenant())).toBe(1);
    expect(coveredShards(tenant({ dataShards: 2, maxDataShards: 16 }))).toBe(16);
    expect(coveredShards(tenant({ dataShards: 64, maxDataShards: 64 }))).toBe(64);
  });

  it("a change of count keeps the old one in the history for the claim window, and forgets older ones", () => {
    const t = tenant({ dataShards: 4, shardHistory: [{ shards: 2, until: now - 3 * BUCKET_MS }] });
    expect(nextShardHistory(t, now)).toEqual([{ shards: 4, until: now }]);
  });
});

describe("modes in the data plane", () => {
  it("a test-mode id says its mode (and round-trips); a live id reads as it always did", () => {
    for (const where of [
      { bucket: 1065, shard: 0, mode: "test" as const },
      { bucket: 62 ** 3 - 1, shard: MAX_DATA_SHARDS - 1, mode: "test" as const },
      { bucket: 1065, shard: 3, mode: "test" as const, home: "ten_8Jd02kLmQpZx4RtYvB1c" },
    ]) {
      const id = locatedId("dlv", where);
      expect(id).toMatch(/^dlv_[0-9A-Za-z]{21}(_[0-9A-Za-z]+)?$/);
      expect(locate(id, "dlv")).toEqual(where);
      expect(modeOfId(id)).toBe("test");
    }
    const live = locatedId("evt", { bucket: 1065, shard: 7 });
    expect(locate(live, "evt")).toEqual({ bucket: 1065, shard: 7 });
    expect(modeOfId(live)).toBe("live");
    expect(locatedId("evt", { bucket: 1065, shard: 7, mode: "live" }).slice(0, 9)).toBe(live.slice(0, 9));
  });

  it("test mode has objects of its own, and a test publish is placed in them", () => {
    expect(objectName("ten_abc", { bucket: 5, shard: 1 })).toBe("ten_abc/5/1");
    expect(objectName("ten_abc", { bucket: 5, shard: 1, mode: "test" })).toBe("ten_abc/test/5/1");
    const now = Date.UTC(2026, 11, 10, 12);
    const place = placeEvent(tenant({ mode: "test", dataShards: 4, maxDataShards: 4 }), now, "key-1");
    expect(place.name).toBe(`ten_abc/test/${bucketOf(now)}/${place.shard}`);
    expect(place.elsewhere.every((n) => n.startsWith("ten_abc/test/"))).toBe(true);
    expect(modeOfId(locatedId("evt", place))).toBe("test");
  });

  it("an id is found only in its own mode", () => {
    const testId = locatedId("evt", { bucket: 9, shard: 0, mode: "test" });
    const liveId = locatedId("evt", { bucket: 9, shard: 0 });
    expect(objectOfId("ten_abc", testId, "evt", "test")?.name).toBe("ten_abc/test/9/0");
    expect(objectOfId("ten_abc", testId, "evt", "live")).toBeNull();
    expect(objectOfId("ten_abc", liveId, "evt", "test")).toBeNull();
    expect(objectOfId("ten_abc", liveId, "evt", "live")?.name).toBe("ten_abc/9/0");
  });

  it("test data is kept 7 days; live data EVENT_RETENTION_DAYS", () => {
    expect(TEST_RETENTION_DAYS).toBe(7);
    expect(retentionDaysOf("test", 30)).toBe(7);
    expect(retentionDaysOf("live", 30)).toBe(30);
    expect(retentionDaysOf("live", 3)).toBe(3);
  });
});
