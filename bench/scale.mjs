// bench/scale: how far the data plane goes, in two halves.
// (1) Measured against one `wrangler dev`: events/s published by 16
//     concurrent publishers into one tenant with `dataShards: 1` (every
//     event into one DataShard object) against GET /health in the same run;
//     and the bytes one event costs on disk (the object's SQLite file, read
//     after the server stops) with 1 and with 3 subscriptions, all delivered.
// (2) Simulated (bench/scale-sim.mjs): a day of a billion-a-month workload
//     through the real placement code with `dataShards` set by docs/performance.md's
//     rule; for the busiest and the largest object, writes/s and size at 30
//     days against Cloudflare's per-object limits. Goal: both <= 50 %.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";
import { measure, printTable } from "./load.mjs";
import { OBJECT_LIMITS, simulateDay } from "./scale-sim.mjs";

// A realistic payload: an order with a customer and three lines (~600 bytes of JSON).
const payload = (n) => ({
  order: {
    id: `ord_${n}`,
    number: 100_000 + n,
    status: "paid",
    currency: "EUR",
    total: 12_990,
    customer: { id: `cus_${n % 997}`, email: `buyer${n % 997}@example.com`, name: "Ada Lovelace", country: "FR" },
    lines: [1, 2, 3].map((i) => ({ sku: `SKU-${i}-${n % 50}`, name: `Product ${i}`, quantity: i, unitPrice: 4_330 })),
    shipping: { method: "express", address: { line1: "12 rue de la Paix", city: "Paris", postcode: "75002" } },
    createdAt: new Date(Date.UTC(2026, 11, 1)).toISOString(),
  },
});
const payloadBytes = Buffer.byteLength(JSON.stringify(payload(1)));

/** Bytes in use of every DataShard SQLite file under `persistTo`, by the event type it holds. */
async function shardSizesByType(persistTo) {
  // Imported here: node:sqlite prints an experimental warning, only for this bench.
  const { DatabaseSync } = await import("node:sqlite");
  const root = path.join(persistTo, "v3", "do");
  const out = new Map();
  for (const dir of readdirSync(root).filter((d) => d.endsWith("DataShard"))) {
    for (const file of readdirSync(path.join(root, dir)).filter((f) => f.endsWith(".sqlite"))) {
      const db = new DatabaseSync(path.join(root, dir, file));
      // An object that was only asked (a read, a repeat's lookup) never created its tables.
      const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events'").get();
      const type = hasEvents ? db.prepare("SELECT type FROM events LIMIT 1").get()?.type : undefined;
      const { page_size } = db.prepare("PRAGMA page_size").get();
      const { page_count } = db.prepare("PRAGMA page_count").get();
      const { freelist_count } = db.prepare("PRAGMA freelist_count").get();
      const events = hasEvents ? db.prepare("SELECT count(*) AS n FROM events").get().n : 0;
      db.close();
      if (type) out.set(type, { bytes: (page_count - freelist_count) * page_size, events });
    }
  }
  return out;
}

export async function benchScale({ concurrency = 16, seconds = 8, sizedEvents = 1_000 } = {}) {
  let delivered = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      delivered++;
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
  let sizes;
  const rows = [];
  try {
    const call = async (p, body, key) => {
      const res = await fetch(server.url + p, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key ?? secrets.ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${p}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const tenant = async (name, type, subs) => {
      const { key } = await call("/admin/tenants", {
        name: `${name}-${Date.now()}`,
        dataShards: 1,
        rateLimits: { read: high, write: high },
      });
      await call("/v1/event-types", { name: type }, key.key);
      for (let i = 0; i < subs; i++) await call("/v1/webhooks", { url: `${receiverUrl}/${type}/${i}`, eventTypes: [type] }, key.key);
      return key.key;
    };

    const h = await measure("(h) GET /health (baseline)", () => fetch(`${server.url}/health`), { concurrency, seconds });
    const rateKey = await tenant("bench-scale-rate", "bench.rate", 0);
    let n = 0;
    const body = () => JSON.stringify({ type: "bench.rate", data: payload(n++) });
    const p = await measure(
      "(p) POST /v1/events, one shard object",
      () =>
        fetch(`${server.url}/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${rateKey}` },
          body: body(),
        }),
      { concurrency, seconds },
    );
    rows.push(h, p);

    // Storage: one tenant (so one object) per subscription count, all delivered before measuring.
    const baseKey = await tenant("bench-scale-empty", "bench.empty", 0);
    await call("/v1/events", { type: "bench.empty", data: payload(0) }, baseKey);
    let expected = 0;
    for (const subs of [1, 3]) {
      const key = await tenant(`bench-scale-${subs}`, `bench.subs${subs}`, subs);
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < sizedEvents) await call("/v1/events", { type: `bench.subs${subs}`, data: payload(next++) }, key);
        }),
      );
      expected += sizedEvents * subs;
    }
    const deadline = Date.now() + 300_000;
    while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (delivered < expected) console.log(`warning: only ${delivered} of ${expected} deliveries arrived`);
  } finally {
    await server.stop();
    receiver.close();
  }
  try {
    sizes = await shardSizesByType(persistTo);
  } finally {
    rmSync(persistTo, { recursive: true, force: true });
  }

  printTable(rows);
  const [h, p] = rows;
  const empty = sizes.get("bench.empty")?.bytes ?? 0;
  const perEvent = (subs) => {
    const s = sizes.get(`bench.subs${subs}`);
    return s ? (s.bytes - empty) / s.events : Number.NaN;
  };
  const one = perEvent(1);
  const three = perEvent(3);
  console.log("");
  console.log(`events/s into one shard object: ${p.rps.toFixed(0)} = ${(p.rps / h.rps).toFixed(2)} x /health (${h.rps.toFixed(0)}/s)`);
  console.log(`stored per event (payload ${payloadBytes} B): ${one.toFixed(0)} B with 1 subscription, ${three.toFixed(0)} B with 3`);
  const perDelivery = (three - one) / 2;
  const perEventAlone = one - perDelivery;
  console.log(
    `  = ${perEventAlone.toFixed(0)} B for the event (its payload once) + ${perDelivery.toFixed(0)} B per delivery with its attempt`,
  );

  const sim = await simulateDay({ bytesPerEvent: perEventAlone, bytesPerDelivery: perDelivery });
  const pctOf = (v, limit) => `${((100 * v) / limit).toFixed(1)} %`;
  console.log("");
  console.log(
    `simulated day: ${(sim.events / 1e6).toFixed(1)} M events (${sim.average.toFixed(0)}/s average, ${sim.peakRate}/s burst), ` +
      `2000 tenants (Zipf, one at ${100 * sim.top.share} %), ${sim.objects} objects, ${sim.seconds.toFixed(1)} s to replay`,
  );
  console.log(
    `  per event: ${sim.requestsPerEvent.toFixed(2)} object requests, ${sim.storedPerEvent.toFixed(0)} B stored (1.5 subscriptions, 5 % retried)`,
  );
  console.log(
    `  dataShards by the rule (docs/performance.md): ${JSON.stringify(sim.shardCounts)} (tenants per count); the 30 % tenant: ${sim.top.dataShards}`,
  );
  console.log(
    `  busiest object ${sim.peak.name}: ${sim.peak.perSecond.toFixed(0)} requests/s at its peak second = ` +
      `${pctOf(sim.peak.perSecond, OBJECT_LIMITS.requestsPerSecond)} of ${OBJECT_LIMITS.requestsPerSecond}/s (goal <= 50 %)`,
  );
  console.log(
    `  largest object ${sim.largest.name}: ${(sim.largest.bytes / 1024 ** 3).toFixed(2)} GiB at 30 days = ` +
      `${pctOf(sim.largest.bytes, OBJECT_LIMITS.bytes)} of 10 GiB (goal <= 50 %)`,
  );
  console.log(
    `  the deployment at 30-day retention: ${(sim.deploymentBytes30d / 1024 ** 4).toFixed(2)} TiB over ${sim.objects * 30} objects`,
  );
}
