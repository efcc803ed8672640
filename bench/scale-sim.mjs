// The simulation half of bench/scale: one day of a billion-events-a-month
// workload, replayed second by second through the real placement code
// (src/data/placement.ts, bundled on the fly with esbuild), counting the
// requests and bytes each data-shard object would take. Pure Node: no
// Workers runtime, no network.
import path from "node:path";
import { build } from "esbuild";
import { ROOT } from "../scripts/local-env.mjs";

/** Cloudflare's documented soft limits for one Durable Object. */
export const OBJECT_LIMITS = { requestsPerSecond: 1000, bytes: 10 * 1024 ** 3 };

async function loadPlacement() {
  const out = await build({
    entryPoints: [path.join(ROOT, "src/data/placement.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/**
 * The rule for a tenant's `dataShards` (docs/performance.md, Capacity): enough objects that its
 * peak second takes at most 40 % of one object's request budget on average
 * (events without a key pick a shard at random, so one object's share of a
 * second varies: 40 % keeps it under 50 %), and its busiest day at most
 * half of one object's storage. Rounded up to a power of two so a tenant's
 * count changes rarely.
 */
export function dataShardsFor({ peakEventsPerSecond, eventsPerDay, requestsPerEvent, bytesPerEvent }) {
  const byRate = (peakEventsPerSecond * requestsPerEvent) / (0.4 * OBJECT_LIMITS.requestsPerSecond);
  const bySize = (eventsPerDay * bytesPerEvent) / (0.5 * OBJECT_LIMITS.bytes);
  const need = Math.max(1, Math.ceil(Math.max(byRate, bySize)));
  return Math.min(64, 2 ** Math.ceil(Math.log2(need)));
}

/** Shares of `n` tenants: one takes `top`, the rest follow Zipf (s = 1) over what is left. */
function tenantShares(n, top) {
  const weights = Array.from({ length: n - 1 }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  return [top, ...weights.map((w) => ((1 - top) * w) / sum)];
}

/**
 * Events/s at second `t` of the day: a diurnal curve around the average,
 * and a burst of `burstRate` for `burstSeconds` in the afternoon.
 */
function rateAt(t, { average, burstRate, burstStart, burstSeconds }) {
  if (t >= burstStart && t < burstStart + burstSeconds) return burstRate;
  return average * (1 + 0.6 * Math.sin((2 * Math.PI * (t - 6 * 3600)) / 86_400));
}

export async function simulateDay({
  eventsPerMonth = 1_000_000_000,
  tenants = 2_000,
  topShare = 0.3,
  burstRate = 5_000,
  burstSeconds = 600,
  keyedShare = 0.2,
  subscriptionsPerEvent = 1.5,
  retryShare = 0.05,
  bytesPerDelivery,
  bytesPerEvent,
  requestsPerAttempt = 3,
} = {}) {
  const { placeEvent } = await loadPlacement();
  const average = eventsPerMonth / 30 / 86_400;
  const shape = { average, burstRate, burstStart: 15 * 3600, burstSeconds };
  const shares = tenantShares(tenants, topShare);
  // Every event: its publish (one call), then per delivery and attempt the
  // consumer's load, claim and settle.
  const attemptsPerEvent = subscriptionsPerEvent * (1 + retryShare);
  const requestsPerEvent = 1 + requestsPerAttempt * attemptsPerEvent;
  const storedPerEvent = bytesPerEvent + subscriptionsPerEvent * bytesPerDelivery;
  let peakRate = 0;
  for (let t = 0; t < 86_400; t++) peakRate = Math.max(peakRate, rateAt(t, shape));
  const dayEvents = Array.from({ length: 86_400 }, (_, t) => rateAt(t, shape)).reduce((a, b) => a + b, 0);

  // The operator applies the rule to what each tenant is known to send.
  const placementTenants = shares.map((share, i) => ({
    id: `ten_sim${i}`,
    dataShards: dataShardsFor({
      peakEventsPerSecond: share * peakRate,
      eventsPerDay: share * dayEvents,
      requestsPerEvent,
      bytesPerEvent: storedPerEvent,
    }),
    maxDataShards: 1,
    shardHistory: null,
  }));

  const day = Date.UTC(2026, 11, 1);
  const carry = new Float64Array(tenants);
  const perObjectDay = new Map();
  let peak = { name: "", perSecond: 0, at: 0 };
  let total = 0;
  let keySeq = 0;
  const started = performance.now();
  for (let t = 0; t < 86_400; t++) {
    const rate = rateAt(t, shape);
    const thisSecond = new Map();
    for (let i = 0; i < tenants; i++) {
      carry[i] += rate * shares[i];
      const n = Math.floor(carry[i]);
      if (n === 0) continue;
      carry[i] -= n;
      const tenant = placementTenants[i];
      for (let e = 0; e < n; e++) {
        const key = Math.random() < keyedShare ? `order-${keySeq++}` : undefined;
        const { name } = placeEvent(tenant, day + t * 1000, key);
        thisSecond.set(name, (thisSecond.get(name) ?? 0) + 1);
      }
      total += n;
    }
    for (const [name, events] of thisSecond) {
      perObjectDay.set(name, (perObjectDay.get(name) ?? 0) + events);
      const perSecond = events * requestsPerEvent;
      if (perSecond > peak.perSecond) peak = { name, perSecond, at: t };
    }
  }
  let largest = { name: "", events: 0 };
  for (const [name, events] of perObjectDay) if (events > largest.events) largest = { name, events };
  // An object holds one day of its shard; it stays that size until its
  // bucket expires, so its size at 30 days is its day's events.
  const largestBytes = largest.events * storedPerEvent;
  return {
    events: total,
    objects: perObjectDay.size,
    seconds: (performance.now() - started) / 1000,
    average,
    peakRate,
    requestsPerEvent,
    storedPerEvent,
    top: { dataShards: placementTenants[0].dataShards, share: topShare },
    shardCounts: countBy(placementTenants.map((t) => t.dataShards)),
    peak,
    largest: { ...largest, bytes: largestBytes },
    deploymentBytes30d: total * storedPerEvent * 30,
  };
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
