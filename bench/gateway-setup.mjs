// What bench/gateway.mjs and bench/profile.mjs share: a local origin, a throwaway Hookgate under
// wrangler dev with its gateway in front of that origin, and one reader key per limit mode.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyLocalMigrations, startWranglerDev, throwawaySecrets } from "../scripts/local-env.mjs";

/** An HTTP origin on 127.0.0.1 answering every request with a small JSON body. */
export async function startOrigin() {
  const origin = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
  });
  await new Promise((resolve) => origin.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${origin.address().port}`, close: () => origin.close() };
}

/**
 * Hookgate under wrangler dev, its gateway routing `/items/*` (scope `items:read`) to `originUrl`,
 * and a reader key in a tenant of each limit mode (limits high enough never to refuse).
 */
export async function startGateway(originUrl) {
  const persistTo = mkdtempSync(path.join(tmpdir(), "hookgate-bench-"));
  const secrets = throwawaySecrets();
  applyLocalMigrations({ persistTo, quiet: true });
  const server = await startWranglerDev({ persistTo, vars: { ...secrets, ALLOW_INSECURE_URLS: "true" } });
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
  const stop = async () => {
    await server.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
  try {
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
    return { server, admin, exactKey: await readerIn("exact"), approximateKey: await readerIn("approximate"), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
