import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";

// Every benchmark's wrangler dev runs without its local observability collector (X_LOCAL_OBSERVABILITY,
// on by default): a development-only stand-in for Workers Logs and traces that, in the same workerd,
// streams every invocation (each request, each Durable Object call, each log line and subrequest)
// into a JavaScript collector writing to disk. A deployed Worker's traces are collected off its
// path; locally the collector cost the gateway more than a third of its throughput, and the more
// invocations a scenario makes, the more. Set X_LOCAL_OBSERVABILITY=true to measure with it.
process.env.X_LOCAL_OBSERVABILITY ??= "false";

// A small closed-loop load generator: `concurrency` workers send requests back
// to back for `seconds`, after a short warm-up; latencies are kept per request.
export async function measure(name, makeRequest, { concurrency = 16, seconds = 8, warmupSeconds = 1 } = {}) {
  const run = async (durationMs, record) => {
    const latencies = [];
    let errors = 0;
    const deadline = performance.now() + durationMs;
    const worker = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const res = await makeRequest();
          await res.arrayBuffer();
          if (!res.ok) errors++;
        } catch {
          errors++;
        }
        if (record) latencies.push(performance.now() - t0);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { latencies, errors, elapsed: (performance.now() - started) / 1000 };
  };
  await run(warmupSeconds * 1000, false);
  const { latencies, errors, elapsed } = await run(seconds * 1000, true);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { name, requests: latencies.length, errors, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), latencies, elapsed };
}

export function printTable(rows) {
  console.log("");
  console.log(`${"scenario".padEnd(44)} ${"req/s".padStart(9)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"errors".padStart(7)}`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(44)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`,
    );
  }
}

/** The p-th percentile of sorted numbers. */
export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * A throwaway `wrangler dev` for one benchmark: its own state directory,
 * fresh secrets, migrations applied, insecure (127.0.0.1) URLs allowed.
 * `call` sends JSON with the admin token (or `key`) and throws on a non-2xx;
 * `stop` stops the server and removes its state.
 */
export async function startBenchServer(prefix = "hookgate-bench-") {
  const persistTo = mkdtempSync(path.join(tmpdir(), prefix));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
  const call = async (method, p, body, key) => {
    const res = await fetch(server.url + p, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${key ?? secrets.ADMIN_TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const stop = async () => {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
  return { server, secrets, persistTo, call, stop };
}
