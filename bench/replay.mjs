// bench/replay: does a bulk replay slow down live traffic to the same endpoint?
// One `wrangler dev`, one receiver on 127.0.0.1, one tenant and one endpoint:
// (1) a failure phase: the receiver answers 500 while `failed` events are
//     published (tenant schedule: one retry after 1 s), until all their
//     deliveries are `failed`;
// (2) live traffic alone: `publishers` publishers, one event after another,
//     for `seconds`; publish -> receipt latency at the receiver;
// (3) the same live traffic while a replay of the failed deliveries runs
//     against the same endpoint (receiver healthy again);
// then the replay's own throughput. Goal: live p99 with the replay <= 1.5x
// the p99 without.

import { createServer } from "node:http";
import { pct, printTable, startBenchServer } from "./load.mjs";

async function startReceiver() {
  const live = new Map(); // event id -> arrival time
  let failing = true;
  let replayed = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const type = req.headers["x-webhook-event-type"];
      if (type === "bench.live") {
        live.set(req.headers["x-webhook-event-id"], performance.now());
        res.writeHead(200).end("ok");
        return;
      }
      if (!failing && type === "bench.failed") replayed++;
      res.writeHead(failing ? 500 : 200).end(failing ? "down" : "ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    live,
    heal: () => {
      failing = false;
    },
    replayed: () => replayed,
    close: () => new Promise((r) => server.close(r)),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function benchReplay({ failed = 5000, publishers = 4, seconds = 10, concurrency = 16 } = {}) {
  const { call, stop } = await startBenchServer("hookgate-bench-replay-");
  const receiver = await startReceiver();
  try {
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const created = await call("POST", "/admin/tenants", { name: `bench-replay-${Date.now()}`, rateLimits: { read: high, write: high } });
    const tenantId = created.tenant.id;
    const key = created.key.key;
    // One retry after 1 s, and a breaker that the failure phase never trips.
    await call("PATCH", `/admin/tenants/${tenantId}`, { retrySchedule: [1], breakerThreshold: 10_000 });
    for (const name of ["bench.failed", "bench.live"]) await call("POST", "/v1/event-types", { name }, key);
    const hook = await call("POST", "/v1/webhooks", { url: receiver.url, eventTypes: ["bench.failed", "bench.live"] }, key);
    const since = new Date(Date.now() - 60_000).toISOString();

    // (1) The failure phase.
    const t1 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < failed) {
          const n = ++next;
          await call("POST", "/v1/events", { type: "bench.failed", data: { n } }, key);
          // A success now and then resets the breaker's count of consecutive failures.
          if (n % 500 === 0) await call("POST", "/v1/events", { type: "bench.live", data: { n } }, key);
        }
      }),
    );
    const dry = () => call("POST", "/v1/replays", { webhookId: hook.id, since, eventTypes: ["bench.failed"], dryRun: true }, key);
    const deadline = Date.now() + 600_000;
    let matched = 0;
    while (Date.now() < deadline) {
      matched = (await dry()).matched;
      if (matched >= failed) break;
      await sleep(2_000);
    }
    console.log(`failure phase: ${matched} of ${failed} deliveries failed in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
    receiver.heal();

    const liveRun = async (label) => {
      const published = new Map();
      const stopAt = performance.now() + seconds * 1000;
      let n = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: publishers }, async () => {
          while (performance.now() < stopAt) {
            const t = performance.now();
            const ev = await call("POST", "/v1/events", { type: "bench.live", data: { n: ++n } }, key);
            published.set(ev.id, t);
          }
        }),
      );
      const wait = Date.now() + 60_000;
      while ([...published.keys()].some((id) => !receiver.live.has(id)) && Date.now() < wait) await sleep(100);
      const latencies = [...published].filter(([id]) => receiver.live.has(id)).map(([id, t]) => receiver.live.get(id) - t);
      latencies.sort((x, y) => x - y);
      return {
        name: label,
        rps: latencies.length / ((performance.now() - started) / 1000),
        p50: pct(latencies, 50),
        p99: pct(latencies, 99),
        errors: published.size - latencies.length,
      };
    };

    // (2) Live traffic alone, then (3) with the replay running.
    const alone = await liveRun(`(2) live alone, ${publishers} publishers`);
    const t3 = performance.now();
    const replay = await call("POST", "/v1/replays", { webhookId: hook.id, since, eventTypes: ["bench.failed"] }, key);
    const during = await liveRun(`(3) live during a ${replay.matched}-delivery replay`);
    const mid = await call("GET", `/v1/replays/${replay.id}`, undefined, key);
    let end = mid;
    while (end.state === "running" && Date.now() < deadline) {
      await sleep(1_000);
      end = await call("GET", `/v1/replays/${replay.id}`, undefined, key);
    }
    const replaySeconds = (performance.now() - t3) / 1000;
    printTable([alone, during]);
    console.log("");
    console.log(`replay progress when the live run ended: ${mid.state}, sent ${mid.sent} of ${mid.matched}`);
    console.log(
      `replay: ${end.state}, ${end.sent} sent, ${end.succeeded} succeeded, ${end.failed} failed in ${replaySeconds.toFixed(1)} s ` +
        `(${(end.sent / replaySeconds).toFixed(0)} deliveries/s; the receiver saw ${receiver.replayed()})`,
    );
    console.log(`live receipt p99 with / without the replay: ${(during.p99 / alone.p99).toFixed(2)} (goal <= 1.5)`);
  } finally {
    await receiver.close();
    await stop();
  }
}
