// bench/gateway: requests through the edge gateway to a local origin, against
// (a) /health and (b) the origin called directly, in one run with one
// `wrangler dev`. Goal: (c) >= 0.6 x (a) req/s with p99 within 2 x (a)'s.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";
import { measure, printTable } from "./load.mjs";

export async function benchGateway({ concurrency = 16, seconds = 8 } = {}) {
  const origin = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
  });
  await new Promise((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
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
    const { key } = await send("POST", "/admin/tenants", { name: `bench-${Date.now()}`, rateLimits: { read: high, write: high } }, admin);
    const reader = await send("POST", "/v1/keys", { name: "bench", scopes: ["items:read"] }, { authorization: `Bearer ${key.key}` });
    const probe = await fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${reader.key}` } });
    if (probe.status !== 200) throw new Error(`gateway probe: ${probe.status} ${await probe.text()}`);

    const opts = { concurrency, seconds };
    const a = await measure("(a) GET /health (baseline)", () => fetch(`${server.url}/health`), opts);
    const b = await measure("(b) GET origin directly", () => fetch(`${originUrl}/items/1`), opts);
    const c = await measure(
      "(c) GET /items/1 through the gateway",
      () => fetch(`${server.url}/items/1`, { headers: { authorization: `Bearer ${reader.key}` } }),
      opts,
    );
    printTable([a, b, c]);
    console.log(`\nratio c/a (gateway vs /health): ${(c.rps / a.rps).toFixed(2)} req/s   goal >= 0.6`);
    console.log(`p99 c/a: ${(c.p99 / a.p99).toFixed(2)}   goal <= 2`);
    console.log(`ratio c/b (gateway vs the origin alone): ${(c.rps / b.rps).toFixed(2)}`);
    console.log(`concurrency ${concurrency}; ${seconds} s per scenario after 1 s warm-up; origin and load generator on the same machine`);
    return { a, b, c };
  } finally {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
    origin.close();
  }
}
