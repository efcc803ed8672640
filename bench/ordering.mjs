// bench/ordering: ordered delivery's cost, against one `wrangler dev`, with a
// receiver on 127.0.0.1, in one run, 16 concurrent publishers each publishing
// one event after another to a tenant with one subscription:
// (u) unordered (ordering "none"): deliveries per second;
// (1) ordering "key", every event with the same orderingKey;
// (16) ordering "key", orderingKey spread over 16 keys.
// It also checks what ordering promises: per key, never two requests in
// flight at once, and an event whose publish was answered before another's
// started (same key) arrives first. Goal: (16) / (u) >= 0.5.

import { createServer } from "node:http";
import { printTable, startBenchServer } from "./load.mjs";

async function startReceiver() {
  const arrivals = []; // { k, n, at }
  const inFlight = new Map(); // key -> requests in flight now
  let overlaps = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let data = {};
      try {
        data = JSON.parse(Buffer.concat(chunks).toString("utf8")).data ?? {};
      } catch {}
      const k = String(data.k ?? "");
      const now = (inFlight.get(k) ?? 0) + 1;
      inFlight.set(k, now);
      if (now > 1) overlaps++;
      arrivals.push({ k, n: data.n, at: performance.now() });
      // A little work at the endpoint, so "one at a time" has something to overlap.
      setTimeout(() => {
        inFlight.set(k, inFlight.get(k) - 1);
        res.writeHead(200).end("ok");
      }, 2);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    overlaps: () => overlaps,
    reset: () => {
      arrivals.length = 0;
      overlaps = 0;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Pairs (same key) where one publish was answered before the other started, yet arrived after it. */
function inversions(published, arrivals) {
  const firstArrival = new Map();
  for (const a of arrivals) if (!firstArrival.has(a.n)) firstArrival.set(a.n, a.at);
  const byKey = new Map();
  for (const p of published) byKey.set(p.k, [...(byKey.get(p.k) ?? []), p]);
  let bad = 0;
  for (const list of byKey.values()) {
    for (const x of list) {
      for (const y of list) {
        if (x.answered < y.started && firstArrival.get(x.n) > firstArrival.get(y.n)) bad++;
      }
    }
  }
  return bad;
}

export async function benchOrdering({ events = 400, concurrency = 16 } = {}) {
  const { call, stop } = await startBenchServer("hookgate-bench-");
  const receiver = await startReceiver();
  try {
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const rows = [];
    const figures = {};
    for (const run of [
      { name: "(u) unordered", ordering: "none", keys: 16 },
      { name: "(1) ordering key, 1 key", ordering: "key", keys: 1 },
      { name: "(16) ordering key, 16 keys", ordering: "key", keys: 16 },
    ]) {
      const { key } = await call("POST", "/admin/tenants", {
        name: `bench-ord-${run.keys}-${Date.now()}`,
        rateLimits: { read: high, write: high },
      });
      await call("POST", "/v1/event-types", { name: "bench.ordered" }, key.key);
      await call("POST", "/v1/webhooks", { url: `${receiver.url}/o`, eventTypes: ["bench.ordered"], ordering: run.ordering }, key.key);
      receiver.reset();
      const published = [];
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < events) {
            const n = ++next;
            const k = `k${n % run.keys}`;
            const t = performance.now();
            await call("POST", "/v1/events", { type: "bench.ordered", data: { n, k }, orderingKey: k }, key.key);
            published.push({ n, k, started: t, answered: performance.now() });
          }
        }),
      );
      const publishSeconds = (performance.now() - started) / 1000;
      const deadline = Date.now() + 300_000;
      const distinct = () => new Set(receiver.arrivals.map((a) => a.n)).size;
      while (distinct() < events && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const totalSeconds = (performance.now() - started) / 1000;
      const dps = distinct() / totalSeconds;
      figures[run.keys === 1 && run.ordering === "key" ? "one" : run.ordering === "key" ? "sixteen" : "unordered"] = dps;
      rows.push({ name: `${run.name}: publish`, rps: events / publishSeconds, p50: NaN, p99: NaN, errors: 0 });
      rows.push({ name: `    deliveries`, rps: dps, p50: NaN, p99: NaN, errors: events - distinct() });
      if (run.ordering === "key") {
        console.log(
          `${run.name}: ${receiver.overlaps()} overlapping requests of one key, ${inversions(published, receiver.arrivals)} order inversions, ` +
            `${receiver.arrivals.length - distinct()} repeats`,
        );
      }
    }
    printTable(rows);
    console.log("");
    console.log(`ordered, 1 key: ${figures.one.toFixed(1)} deliveries/s (one at a time: bound by one request's round trip)`);
    console.log(`ordered, 16 keys / unordered: ${(figures.sixteen / figures.unordered).toFixed(2)} (goal >= 0.5)`);
    return figures;
  } finally {
    await receiver.close();
    await stop();
  }
}
