// Helpers shared by `npm start`, the e2e suite and the benchmarks: local
// secrets, the local D1 migrations and a `wrangler dev` child process.

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

/**
 * Applies the D1 migrations to the local database (optionally in `persistTo`).
 * Answers the names of the migrations it applied (none: already up to date).
 * With `quiet`, wrangler's tables are not shown, only its output on failure.
 */
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
  return migrationsApplied(res.stdout ?? "");
}

/** The migration files wrangler's `d1 migrations apply` output lists as to be applied. */
export function migrationsApplied(output) {
  const start = output.indexOf("Migrations to be applied");
  if (start < 0) return [];
  const end = output.indexOf("About to apply", start);
  const table = output.slice(start, end < 0 ? undefined : end);
  return [...table.matchAll(/^\s*│\s*(\S+\.sql)\s*│/gm)].map((m) => m[1]);
}

/** One line for `npm start`: what the migrations did to the local database. */
export function migrationsLine(applied) {
  if (applied.length === 0) return "Local D1 database: up to date, no migration to apply.";
  const names = applied.length === 1 ? applied[0] : `${applied[0]} … ${applied.at(-1)}`;
  return `Local D1 database: applied ${applied.length} migration${applied.length === 1 ? "" : "s"} (${names}).`;
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

/**
 * Starts `wrangler dev` on 127.0.0.1 with `vars` injected (an env file in
 * `persistTo`, so a developer's own .dev.vars never leaks into it) and waits
 * until /health answers. Returns `{url, stop, kill, logs, port, inspectorPort}`: `stop` ends it
 * gently, `kill` at once (SIGKILL, as a crash would). `config`: another
 * Worker's wrangler configuration (the benchmarks' bare forwarder); it must
 * answer /health too.
 */
const LOG_TAIL = 64 * 1024;

export async function startWranglerDev({ persistTo, vars, port, timeoutMs = 90_000, config }) {
  port ??= await freePort();
  const envFile = path.join(persistTo, "e2e.env");
  writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );
  const inspectorPort = await freePort();
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
    String(inspectorPort),
  ];
  if (config) args.push("--config", config);
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const child = spawn(wranglerBin(), args, {
    cwd: ROOT,
    env: childEnv({ CI: "true", NO_COLOR: "1" }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // The last LOG_TAIL characters only: the Worker logs a line per request, and a long run must not hoard them.
  let logs = "";
  const keep = (d) => {
    logs += d;
    if (logs.length > 2 * LOG_TAIL) logs = logs.slice(-LOG_TAIL);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise((resolve) => {
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
  const kill = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        resolve();
      }
    });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${logs}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, stop, kill, logs: () => logs, port, inspectorPort };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not answer /health within ${timeoutMs} ms:\n${logs}`);
}
