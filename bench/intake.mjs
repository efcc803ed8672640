// bench/intake: signed incoming webhooks against one `wrangler dev`, in one
// run: (a) /health, the baseline; (b) GitHub-signed requests to one source
// (verify, map, publish), requests/s and the sender's latency; (c) intake ->
// receipt: from the sender's POST to the delivery arriving at a receiver
// subscribed to the mapped type, p50/p99. Goal: (b) >= 0.3 x (a).
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";
import { measure, printTable } from "./load.mjs";

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export async function benchIntake({ concurrency = 16, seconds = 8 } = {}) {
  const sentAt = new Map(); // delivery id -> send time
  const latencies = [];
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      try {
        const { data } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const t = sentAt.get(data.delivery);
        if (t !== undefined) latencies.push(performance.now() - t);
      } catch {}
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
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
    const { key } = await call("/admin/tenants", { name: `bench-intake-${Date.now()}`, rateLimits: { read: high, write: high } });
    await call("/v1/event-types", { name: "github.push" }, key.key);
    await call("/v1/webhooks", { url: `${receiverUrl}/hook`, eventTypes: ["github.push"] }, key.key);
    const secret = "bench-github-secret";
    const source = await call(
      "/v1/sources",
      {
        name: "github",
        eventType: "github.{{headers.x-github-event}}",
        verification: { scheme: "github", secret },
        mapping: { repo: "{{trigger.repository.full_name}}", delivery: "{{headers.x-github-delivery}}" },
        rateLimit: 100_000,
      },
      key.key,
    );
    const send = () => {
      const delivery = randomUUID();
      const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "acme/api" }, pusher: { name: "octo" } });
      const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      sentAt.set(delivery, performance.now());
      return fetch(source.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": delivery,
          "x-hub-signature-256": signature,
        },
        body,
      });
    };
    const opts = { concurrency, seconds };
    const a = await measure("(a) GET /health (baseline)", () => fetch(`${server.url}/health`), opts);
    const b = await measure("(b) signed POST /in/<source>/<token>", send, opts);
    // Let the last deliveries arrive before reading the latencies.
    const deadline = Date.now() + 60_000;
    while (latencies.length < b.requests && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    latencies.sort((x, y) => x - y);
    printTable([a, b]);
    console.log(`\nratio b/a (intake vs /health): ${(b.rps / a.rps).toFixed(2)}   goal >= 0.3`);
    console.log(
      `(c) intake -> receipt over ${latencies.length} deliveries: p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms`,
    );
    console.log(`concurrency ${concurrency}; ${seconds} s per scenario after 1 s warm-up`);
    return { a, b };
  } finally {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
    receiver.close();
  }
}
