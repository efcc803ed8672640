// bench/gateway: the edge gateway against a bare Worker that only forwards to the same local origin
// (bench/forwarder/, the physical limit of any gateway here), in one run: the gateway for a tenant
// in each limit mode, and /admin/verify. Goals: exact >= 0.75 x the forwarder's req/s; approximate
// >= 0.90 x with p99 <= 1.25 x the forwarder's; /admin/verify (approximate) p99 < 5 ms.
// The same forwarder writing one JSON log line per request, as Hookgate does, is measured too: under
// wrangler dev that line alone costs about a quarter of the forwarder's throughput.
// Settings (environment): BENCH_CONCURRENCY (16), BENCH_SECONDS per scenario and round (8),
// BENCH_ROUNDS (2; the scenarios alternate in order each round, so drift on a shared machine
// spreads over all of them), BENCH_ONLY (scenario letters, e.g. "f,e,x"; default all).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startWranglerDev } from "../scripts/local-env.mjs";
import { startGateway, startOrigin } from "./gateway-setup.mjs";
import { measure, pct, printTable } from "./load.mjs";

const FORWARDER_CONFIG = path.join(path.dirname(fileURLToPath(import.meta.url)), "forwarder", "wrangler.toml");
const setting = (name, fallback) => Number(process.env[name] ?? fallback);

/** Runs each scenario `rounds` times, alternating the order, and pools each one's latencies. */
async function rounds(scenarios, opts, count) {
  const pooled = new Map(scenarios.map((s) => [s.name, { latencies: [], requests: 0, elapsed: 0, errors: 0 }]));
  for (let r = 0; r < count; r++) {
    const order = r % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) {
      const m = await measure(s.name, s.run, { ...opts, ...s.opts });
      const p = pooled.get(s.name);
      p.latencies.push(...m.latencies);
      p.requests += m.requests;
      p.elapsed += m.elapsed;
      p.errors += m.errors;
    }
  }
  return scenarios.map((s) => {
    const p = pooled.get(s.name);
    const sorted = p.latencies.sort((a, b) => a - b);
    return {
      name: s.name,
      requests: p.requests,
      errors: p.errors,
      rps: p.requests / p.elapsed,
      p50: pct(sorted, 50),
      p99: pct(sorted, 99),
    };
  });
}

export async function benchGateway({
  concurrency = setting("BENCH_CONCURRENCY", 16),
  seconds = setting("BENCH_SECONDS", 8),
  roundsCount = setting("BENCH_ROUNDS", 2),
} = {}) {
  const origin = await startOrigin();
  const forwarderState = mkdtempSync(path.join(tmpdir(), "hookgate-bench-forwarder-"));
  const loggingState = mkdtempSync(path.join(tmpdir(), "hookgate-bench-forwarder-"));
  const gateway = await startGateway(origin.url);
  const { server, admin, exactKey, approximateKey } = gateway;
  const forwarder = await startWranglerDev({ persistTo: forwarderState, vars: { ORIGIN: origin.url }, config: FORWARDER_CONFIG });
  const logging = await startWranglerDev({ persistTo: loggingState, vars: { ORIGIN: origin.url, LOG: "1" }, config: FORWARDER_CONFIG });
  try {
    const through = (key) => () => fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${key}` } });
    const verify = (key) => () =>
      fetch(`${server.url}/admin/verify`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        body: JSON.stringify({ credential: key, scope: "items:read" }),
      });

    const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
    const letter = (name) => name.slice(1, name.indexOf(")"));
    const rows = await rounds(
      [
        { name: "(f) bare forwarder -> origin", run: () => fetch(`${forwarder.url}/items/1`) },
        { name: "(fl) forwarder + one log line", run: () => fetch(`${logging.url}/items/1`) },
        { name: "(e) gateway, exact", run: through(exactKey) },
        { name: "(x) gateway, approximate", run: through(approximateKey) },
        { name: "(h) GET /health (Hookgate, no auth)", run: () => fetch(`${server.url}/health`) },
        {
          name: "(w) GET /v1/whoami (auth + object)",
          run: () => fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${exactKey}` } }),
        },
        { name: "(h1) GET /health, 1 at a time (verify's floor)", run: () => fetch(`${server.url}/health`), opts: { concurrency: 1 } },
        { name: "(ve) /admin/verify, exact, 1 at a time", run: verify(exactKey), opts: { concurrency: 1 } },
        { name: "(vx) /admin/verify, approximate, 1 at a time", run: verify(approximateKey), opts: { concurrency: 1 } },
      ].filter((s) => !only || only.includes(letter(s.name))),
      { concurrency, seconds },
      roundsCount,
    );
    printTable(rows);
    const by = Object.fromEntries(rows.map((r) => [letter(r.name), r]));
    const line = (label, a, b, value, goal) => {
      if (by[a] && by[b]) console.log(`${label.padEnd(44)} ${value(by[a], by[b]).toFixed(2).padStart(6)}   goal ${goal}`);
    };
    const rps = (a, b) => a.rps / b.rps;
    const p99 = (a, b) => a.p99 / b.p99;
    console.log("");
    line("exact / forwarder (req/s)", "e", "f", rps, ">= 0.75");
    line("approximate / forwarder (req/s)", "x", "f", rps, ">= 0.90");
    line("approximate p99 / forwarder p99", "x", "f", p99, "<= 1.25");
    line("exact p99 / forwarder p99", "e", "f", p99, "(no goal)");
    line("forwarder + log line / forwarder (req/s)", "fl", "f", rps, "(the log line's local cost)");
    line("exact / forwarder + log line (req/s)", "e", "fl", rps, "(same work but the gateway's)");
    line("approximate / forwarder + log line (req/s)", "x", "fl", rps, "(same work but the gateway's)");
    line("approximate p99 / forwarder + log line p99", "x", "fl", p99, "(same work but the gateway's)");
    if (by.vx) console.log(`${"/admin/verify approximate p99 (ms)".padEnd(44)} ${by.vx.p99.toFixed(2).padStart(6)}   goal < 5`);
    if (by.h1) console.log(`${"GET /health p99, 1 at a time (ms)".padEnd(44)} ${by.h1.p99.toFixed(2).padStart(6)}   (the local floor)`);
    console.log(
      `concurrency ${concurrency} (verify: 1); ${roundsCount} rounds of ${seconds} s per scenario after 1 s warm-up each; origin, Workers and load generator on the same machine`,
    );
    return rows;
  } finally {
    await Promise.all([gateway.stop(), forwarder.stop(), logging.stop()]);
    for (const dir of [forwarderState, loggingState]) rmSync(dir, { recursive: true, force: true });
    origin.close();
  }
}
