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
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";
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
  const origin = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
  });
  await new Promise((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const forwarderState = mkdtempSync(path.join(tmpdir(), "hookgate-bench-forwarder-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
  const loggingState = mkdtempSync(path.join(tmpdir(), "hookgate-bench-forwarder-"));
  const forwarder = await startWranglerDev({ persistTo: forwarderState, vars: { ORIGIN: originUrl }, config: FORWARDER_CONFIG });
  const logging = await startWranglerDev({ persistTo: loggingState, vars: { ORIGIN: originUrl, LOG: "1" }, config: FORWARDER_CONFIG });
  try {
    const send = async (method, p, body, headers = {}) => {
      const res = await fetch(server.url + p, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const admin = { authorization: `Bearer ${secrets.ADMIN_TOKEN}` };
    await send("PUT", "/admin/scopes", { scopes: [{ name: "items:read" }] }, admin);
    await send("PUT", "/admin/gateway", { origin: originUrl, routes: [{ path: "/items/*", scope: "items:read" }] }, admin);
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const readerIn = async (limitMode) => {
      const { tenant, key } = await send(
        "POST",
        "/admin/tenants",
        { name: `bench-${limitMode}-${Date.now()}`, rateLimits: { read: high, write: high } },
        admin,
      );
      await send("PATCH", `/admin/tenants/${tenant.id}`, { limitMode }, admin);
      const reader = await send("POST", "/v1/keys", { name: "bench", scopes: ["items:read"] }, { authorization: `Bearer ${key.key}` });
      const probe = await fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${reader.key}` } });
      if (probe.status !== 200) throw new Error(`gateway probe (${limitMode}): ${probe.status} ${await probe.text()}`);
      return reader.key;
    };
    const exactKey = await readerIn("exact");
    const approximateKey = await readerIn("approximate");
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
    await Promise.all([server.stop(), forwarder.stop(), logging.stop()]);
    for (const dir of [persistTo, forwarderState, loggingState]) rmSync(dir, { recursive: true, force: true });
    origin.close();
  }
}
