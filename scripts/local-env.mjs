// Helpers shared by `npm start`, the e2e suite and the benchmarks: local
// secrets, the local D1 migrations, a `wrangler dev` child process, and the
// timer that stands in for the Cron Trigger locally.
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SECRETS as generators } from "./cloudflare-resources.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");

/** The wrangler to run: $WRANGLER when set (another version, or a test's stand-in), else this project's. */
export function wranglerBin() {
  return process.env.WRANGLER || path.join(BIN, "wrangler");
}

/**
 * Environment for child processes: node_modules/.bin first, so wrangler runs
 * on the Node 22 the `node` devDependency installs even where the machine has
 * an older one.
 */
export function childEnv(extra = {}) {
  return { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", ...extra };
}

/**
 * Creates .dev.vars from .dev.vars.example when absent, generating secrets;
 * an existing one gets any secret a newer version added (nothing is overwritten).
 */
export function ensureDevVars(file = path.join(ROOT, ".dev.vars")) {
  const example = readFileSync(path.join(ROOT, ".dev.vars.example"), "utf8");
  if (!existsSync(file)) {
    const filled = example.replace(/^([A-Z_]+)=generate$/gm, (_, name) => `${name}=${generators[name]?.() ?? ""}`);
    writeFileSync(file, filled, { mode: 0o600 });
    console.log(`Created ${path.relative(process.cwd(), file) || file} with fresh local secrets.`);
  } else {
    const have = parseVars(readFileSync(file, "utf8"));
    const missing = [...example.matchAll(/^([A-Z_]+)=generate$/gm)].map((m) => m[1]).filter((name) => !(name in have));
    if (missing.length > 0) {
      appendFileSync(file, `\n${missing.map((name) => `${name}=${generators[name]?.() ?? ""}`).join("\n")}\n`);
      console.log(`Added ${missing.join(", ")} to ${path.relative(process.cwd(), file) || file}.`);
    }
  }
  return parseVars(readFileSync(file, "utf8"));
}

export function parseVars(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

/** Fresh random secrets for a throwaway local instance (e2e, bench). */
export function throwawaySecrets() {
  return Object.fromEntries(Object.entries(generators).map(([k, gen]) => [k, gen()]));
}

/** Applies the D1 migrations to the local database (optionally in `persistTo`). */
export function applyLocalMigrations({ persistTo, quiet = false } = {}) {
  const args = ["d1", "migrations", "apply", "DB", "--local"];
  if (persistTo) args.push("--persist-to", persistTo);
  const res = spawnSync(wranglerBin(), args, {
    cwd: ROOT,
    stdio: quiet ? "pipe" : "inherit",
    env: childEnv({ CI: "true" }),
    encoding: "utf8",
  });
  if (res.status !== 0) {
    throw new Error(`wrangler d1 migrations apply failed (${res.status}):\n${res.stdout ?? ""}${res.stderr ?? ""}`);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// wrangler.toml's [triggers] cron; Hookgate's scheduled handler does not look at it.
const CRON = "* * * * *";

/**
 * `wrangler dev` never fires Cron Triggers on its own, so this asks the dev
 * server at `url` to run the scheduled handler (production's delivery sweep
 * and retention) every `intervalMs`. It uses the trigger endpoint Miniflare
 * serves under `wrangler dev`, which answers once the handler and its
 * waitUntil work are done, 500 if they threw (`--test-scheduled`'s
 * `/__scheduled` answers 200 at once, whatever happens). Runs never overlap.
 * Returns a function that stops the timer.
 */
export function runCronLocally(url, { intervalMs = 60_000, onError = (message) => console.error(message) } = {}) {
  let timer;
  let stopped = false;
  const tick = async () => {
    try {
      const res = await fetch(`${url}/cdn-cgi/local/scheduled?${new URLSearchParams({ cron: CRON })}`);
      if (!res.ok) onError(`[cron] scheduled handler failed: ${res.status} ${await res.text()}`);
    } catch (err) {
      onError(`[cron] dev server not reachable: ${err.message}`);
    }
    if (!stopped) timer = setTimeout(tick, intervalMs).unref();
  };
  timer = setTimeout(tick, intervalMs).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Starts `wrangler dev` on 127.0.0.1 with `vars` injected (an env file in
 * `persistTo`, so a developer's own .dev.vars never leaks into it) and waits
 * until /health answers. With `scheduled`, it also runs the scheduled handler
 * every minute once up (off by default, so the e2e suite's timing stays as it
 * was). Returns `{url, stop, logs}`.
 */
export async function startWranglerDev({ persistTo, vars, port, timeoutMs = 90_000, scheduled = false }) {
  port ??= await freePort();
  const envFile = path.join(persistTo, "e2e.env");
  writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persistTo,
    "--env-file",
    envFile,
    "--show-interactive-dev-session=false",
    "--inspector-port",
    String(await freePort()),
  ];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wranglerBin(), args, {
    cwd: ROOT,
    env: childEnv({ CI: "true", NO_COLOR: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let logs = "";
  child.stdout.on("data", (d) => (logs += d));
  child.stderr.on("data", (d) => (logs += d));
  const url = `http://127.0.0.1:${port}`;
  let stopCron = () => {};
  const stop = () =>
    new Promise((resolve) => {
      stopCron();
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        resolve();
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 5000).unref();
    });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${logs}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) {
        if (scheduled) stopCron = runCronLocally(url, { onError: (message) => (logs += `${message}\n`) });
        return { url, stop, logs: () => logs, port };
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer /health within ${timeoutMs} ms:\n${logs}`);
}
