// bench/auth: the cost of authentication + rate limiting on the hot path.
// (a) GET /health, no auth: the baseline; (b) GET /v1/keys/:id with a static
// key; (c) the same with an OAuth access token. Limits are raised so they do
// not interfere. All three run against one `wrangler dev`, in one run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";
import { measure, printTable } from "./load.mjs";

export async function benchAuth({ concurrency = 16, seconds = 8 } = {}) {
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: secrets });
  try {
    const post = async (p, body, headers = {}) => {
      const res = await fetch(server.url + p, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const high = { limit: 1_000_000, windowSeconds: 60 };
    const { tenant, key } = await post(
      "/admin/tenants",
      { name: `bench-${Date.now()}`, rateLimits: { read: high, write: high } },
      { authorization: `Bearer ${secrets.ADMIN_TOKEN}` },
    );
    const client = await post("/v1/oauth-clients", { name: "bench", scopes: ["keys:read"] }, { authorization: `Bearer ${key.key}` });
    const tokenRes = await fetch(`${server.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: client.clientId, client_secret: client.clientSecret }),
    });
    const { access_token } = await tokenRes.json();
    const target = `${server.url}/v1/keys/${key.id}`;
    const opts = { concurrency, seconds };

    // (b)/(c) hit GET /v1/whoami, whose handler does nothing but answer, so the
    // ratio to (a) is the cost of authentication + rate limiting alone. (d)/(e)
    // add a handler that reads D1, as most endpoints do.
    const who = `${server.url}/v1/whoami`;
    const a = await measure("(a) GET /health (no auth, baseline)", () => fetch(`${server.url}/health`), opts);
    const b = await measure("(b) GET /v1/whoami, static key", () => fetch(who, { headers: { authorization: `Bearer ${key.key}` } }), opts);
    const c = await measure(
      "(c) GET /v1/whoami, OAuth token",
      () => fetch(who, { headers: { authorization: `Bearer ${access_token}` } }),
      opts,
    );
    const d = await measure(
      "(d) GET /v1/keys/:id (+1 D1 read), static key",
      () => fetch(target, { headers: { authorization: `Bearer ${key.key}` } }),
      opts,
    );
    const e = await measure(
      "(e) GET /v1/keys/:id (+1 D1 read), OAuth token",
      () => fetch(target, { headers: { authorization: `Bearer ${access_token}` } }),
      opts,
    );
    printTable([a, b, c, d, e]);
    console.log(`\nratio b/a (static key vs baseline): ${(b.rps / a.rps).toFixed(2)}   goal >= 0.5`);
    console.log(`ratio c/a (OAuth token vs baseline): ${(c.rps / a.rps).toFixed(2)}`);
    console.log(`ratio d/a (static key + a D1 read vs baseline): ${(d.rps / a.rps).toFixed(2)}`);
    console.log(`tenant ${tenant.id}; concurrency ${concurrency}; ${seconds} s per scenario after 1 s warm-up`);
    return { a, b, c };
  } finally {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}
