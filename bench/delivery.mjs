// bench/delivery: end-to-end delivery throughput and latency against one
// `wrangler dev`, with a receiver on 127.0.0.1, in one run, 16 concurrent
// publishers each publishing one event after another:
// (a) the receiver's own ceiling: this process posting to it directly;
// (h) GET /health, (w) GET /v1/whoami, (k) GET /v1/keys?limit=1: the
//     baseline, auth alone, and auth + a D1 read;
// (b) Hookgate: events published per second, deliveries per second to 1 and
//     to 3 subscriptions, and publish -> receipt latency (p50/p99).
// Goals, as ratios to (h): deliveries/s >= 0.25 (1 sub), >= 0.40 (3 subs);
// receipt p50 < 150 ms, p99 < 500 ms; (w) >= 0.80, (k) >= 0.50.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { ROOT } from "../scripts/local-env.mjs";
import { measure, pct, printTable, startBenchServer } from "./load.mjs";

async function startReceiver() {
  const arrivals = new Map(); // event id -> [times]
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = req.headers["x-webhook-event-id"];
      if (id) arrivals.set(id, [...(arrivals.get(id) ?? []), performance.now()]);
      count++;
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    count: () => count,
    close: () => new Promise((r) => server.close(r)),
  };
}

export async function benchDelivery({ events = 300, concurrency = 16 } = {}) {
  const { server, call, stop } = await startBenchServer("hookgate-bench-");
  const receiver = await startReceiver();
  try {
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const body = JSON.stringify({ id: "evt_x", type: "bench.ping", createdAt: new Date().toISOString(), data: { n: 1 } });
    const a = await measure("(a) receiver ceiling (direct POST)", () => fetch(`${receiver.url}/direct`, { method: "POST", body }), {
      concurrency,
      seconds: 5,
    });

    const high0 = { limit: 1_000_000, windowSeconds: 60 };
    const probe = await call("POST", "/admin/tenants", { name: `bench-auth-${Date.now()}`, rateLimits: { read: high0, write: high0 } });
    const auth = { authorization: `Bearer ${probe.key.key}` };
    const h = await measure("(h) GET /health (baseline)", () => fetch(`${server.url}/health`), { concurrency, seconds: 5 });
    const w = await measure("(w) GET /v1/whoami", () => fetch(`${server.url}/v1/whoami`, { headers: auth }), { concurrency, seconds: 5 });
    const k = await measure("(k) GET /v1/keys?limit=1", () => fetch(`${server.url}/v1/keys?limit=1`, { headers: auth }), {
      concurrency,
      seconds: 5,
    });
    const rows = [a, h, w, k];
    const ratios = [
      `whoami / health: ${(w.rps / h.rps).toFixed(2)} (goal >= 0.80)`,
      `keys?limit=1 / health: ${(k.rps / h.rps).toFixed(2)} (goal >= 0.50)`,
    ];
    for (const subs of [1, 3]) {
      const { key } = await call("POST", "/admin/tenants", {
        name: `bench-${subs}-${Date.now()}`,
        rateLimits: { read: high, write: high },
      });
      await call("POST", "/v1/event-types", { name: "bench.ping" }, key.key);
      for (let i = 0; i < subs; i++) {
        await call("POST", "/v1/webhooks", { url: `${receiver.url}/s${subs}-${i}`, eventTypes: ["bench.ping"] }, key.key);
      }
      receiver.arrivals.clear();
      const published = new Map();
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < events) {
            next++;
            const t = performance.now();
            const ev = await call("POST", "/v1/events", { type: "bench.ping", data: { n: next } }, key.key);
            published.set(ev.id, t);
          }
        }),
      );
      const publishSeconds = (performance.now() - started) / 1000;
      const expected = events * subs;
      const deadline = Date.now() + 300_000;
      const delivered = () => [...receiver.arrivals.values()].reduce((n, t) => n + t.length, 0);
      while (delivered() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const totalSeconds = (performance.now() - started) / 1000;
      const latencies = [];
      for (const [id, times] of receiver.arrivals) for (const t of times) latencies.push(t - published.get(id));
      latencies.sort((x, y) => x - y);
      const dps = delivered() / totalSeconds;
      rows.push({
        name: `(b) publish ${events} events -> ${subs} sub(s): publish`,
        rps: events / publishSeconds,
        p50: NaN,
        p99: NaN,
        errors: 0,
      });
      rows.push({
        name: `    deliveries, publish -> receipt`,
        rps: dps,
        p50: pct(latencies, 50),
        p99: pct(latencies, 99),
        errors: expected - delivered(),
      });
      ratios.push(
        `deliveries/s to ${subs} sub(s) / health: ${(dps / h.rps).toFixed(2)} (goal >= ${subs === 1 ? "0.25" : "0.40"}); ` +
          `receipt p50 ${pct(latencies, 50).toFixed(0)} ms (goal < 150), p99 ${pct(latencies, 99).toFixed(0)} ms (goal < 500)`,
      );
    }
    printTable(rows);
    console.log("");
    for (const r of ratios) console.log(r);
    const toml = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
    const settings = /\[\[queues\.consumers\]\]\s*queue = "hookgate-deliveries"\n([\s\S]*?)\n\n/.exec(toml)?.[1] ?? "";
    console.log(
      `queue consumer settings: ${settings
        .split("\n")
        .filter((l) => /^\w+ =/.test(l))
        .join("; ")}`,
    );
  } finally {
    await receiver.close();
    await stop();
  }
}
