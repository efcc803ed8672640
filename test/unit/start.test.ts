// `npm start` (scripts/start.mjs) against a stand-in wrangler (fixtures/fake-wrangler-dev.mjs), from
// a copy of the scripts in a temp dir: the developer's .dev.vars and local database are never touched.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseVars } from "../../scripts/local-env.mjs";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.join(import.meta.dirname, "fixtures");
/** What wrangler 4.155 printed applying the ten migrations to a fresh local database (about 300 lines). */
const APPLY_OUTPUT = path.join(FIXTURES, "wrangler-migrations-apply.txt");
const PORT = "8123";

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "hookgate-start-test-"));
  mkdirSync(file("scripts"));
  for (const name of ["start.mjs", "local-env.mjs", "cloudflare-resources.mjs"]) {
    copyFileSync(path.join(ROOT, "scripts", name), file(`scripts/${name}`));
  }
  copyFileSync(path.join(ROOT, ".dev.vars.example"), file(".dev.vars.example"));
  writeFileSync(file("wrangler"), `#!/bin/sh\nexec "${process.execPath}" "${path.join(FIXTURES, "fake-wrangler-dev.mjs")}" "$@"\n`, {
    mode: 0o755,
  });
  writeFileSync(file("calls.jsonl"), "");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `node scripts/start.mjs`; once its output holds `until` (or it exits), sends SIGTERM, as
 * Ctrl-C would. Answers the exit code, stdout and stderr, and the wrangler commands it ran.
 */
function start(env: Record<string, string>, until = '-d \'{"name":"Acme"}\'') {
  const child = spawn(process.execPath, [file("scripts/start.mjs")], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", PORT, WRANGLER: file("wrangler"), FAKE_WRANGLER_LOG: file("calls.jsonl"), ...env },
  });
  let stdout = "";
  let stderr = "";
  const stopWhenDone = () => {
    if (stdout.includes(until)) child.kill("SIGTERM");
  };
  child.stdout.on("data", (d) => {
    stdout += d;
    stopWhenDone();
  });
  child.stderr.on("data", (d) => (stderr += d));
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string; calls: string[][] }>((resolve) => {
    child.on("close", (code) => {
      clearTimeout(guard);
      const calls = readFileSync(file("calls.jsonl"), "utf8").trim().split("\n").filter(Boolean);
      resolve({ code, stdout, stderr, calls: calls.map((line) => JSON.parse(line)) });
    });
  });
}

describe("npm start", () => {
  it("applies the migrations quietly (one line), then prints the token and the URLs after wrangler's Ready, last", async () => {
    const run = await start({ FAKE_MIGRATIONS: APPLY_OUTPUT });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.calls.map((c) => c.slice(0, 3).join(" "))).toEqual(["d1 migrations apply", "dev --ip 127.0.0.1"]);

    const lines = run.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("Local D1 database"))).toEqual([
      "Local D1 database: applied 10 migrations (0000_init.sql … 0009_ordering_and_replays.sql).",
    ]);
    expect(run.stdout).not.toMatch(/[┌│└]|\.sql\s+│|Migrations to be applied/);

    const token = parseVars(readFileSync(file(".dev.vars"), "utf8")).ADMIN_TOKEN as string;
    expect(token.length).toBeGreaterThanOrEqual(16);
    const ready = run.stdout.indexOf(`Ready on http://127.0.0.1:${PORT}\n`);
    expect(ready).toBeGreaterThan(run.stdout.indexOf("env.BINDING_19"));
    const after = run.stdout.slice(ready);
    for (const shown of [token, `http://127.0.0.1:${PORT}/v1`, `http://127.0.0.1:${PORT}/dashboard`, `http://127.0.0.1:${PORT}/docs`]) {
      expect(after, shown).toContain(shown);
      expect(run.stdout.slice(0, ready), shown).not.toContain(shown);
    }
    // Nothing of wrangler's comes after the banner: it is what the terminal shows last.
    expect(after.trimEnd().endsWith('-d \'{"name":"Acme"}\'')).toBe(true);
  });

  it("says in one line that the local database is up to date when there is nothing to apply", async () => {
    const run = await start({ FAKE_MIGRATIONS: "none" });
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter((l) => l.startsWith("Local D1 database"))).toEqual([
      "Local D1 database: up to date, no migration to apply.",
    ]);
    expect(run.stdout).not.toContain("No migrations to apply!");
    expect(run.stdout).toContain("Hookgate is ready on");
  });

  it("stops before wrangler dev when the migrations fail, showing wrangler's own error", async () => {
    const run = await start({ FAKE_MIGRATIONS: "fail" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Couldn't find a D1 DB with the name or binding 'DB'");
    expect(run.calls.map((c) => c[0])).toEqual(["d1"]);
    expect(run.stdout).not.toContain("Hookgate is ready");
  });

  it("prints no banner when wrangler dev exits before it is ready, and exits with its code", async () => {
    const run = await start({ FAKE_MIGRATIONS: "none", FAKE_DEV_EXIT: "3" });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("Address already in use");
    expect(run.stdout).not.toContain("Hookgate is ready");
    expect(run.stdout).not.toContain(parseVars(readFileSync(file(".dev.vars"), "utf8")).ADMIN_TOKEN as string);
  });
});
