// scripts/setup-cloudflare.mjs against a stand-in wrangler (fixtures/fake-wrangler.mjs)
// and a copy of wrangler.toml in a temp dir: the real account and config are never touched.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SECRETS } from "../../scripts/cloudflare-resources.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const SCRIPT = path.join(ROOT, "scripts", "setup-cloudflare.mjs");
const FAKE = path.join(HERE, "fixtures", "fake-wrangler.mjs");
const SECRET_NAMES = ["ADMIN_TOKEN", "TOKEN_SIGNING_KEY", "SECRETS_KEY", "GATEWAY_SECRET"];

type Call = { argv: string[]; secrets?: Record<string, string>; secretsFile?: string };
type State = {
  loggedIn: boolean;
  accounts?: { id: string; name: string }[];
  databases: { uuid: string; name: string }[];
  queues: string[];
  worker: null | { secrets: Record<string, string> };
  failDeploy?: string;
};

let dir: string;
let toml: string;
const file = (name: string) => path.join(dir, name);
const readState = (): State => JSON.parse(readFileSync(file("state.json"), "utf8"));
const writeState = (state: State) => writeFileSync(file("state.json"), JSON.stringify(state));
/** A fresh account: no Hookgate resources, two unrelated queues (one full page of `queues list`). */
const emptyAccount = (): State => ({ loggedIn: true, databases: [], queues: ["billing-jobs", "mailer"], worker: null });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "hookgate-setup-test-"));
  toml = file("wrangler.toml");
  copyFileSync(path.join(ROOT, "wrangler.toml"), toml);
  // $WRANGLER names one executable; this one runs the fake on the Node running the tests.
  writeFileSync(file("wrangler"), `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`, { mode: 0o755 });
  writeState(emptyAccount());
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the setup script; returns its exit status and output, and the wrangler calls it made. */
function setup(env: Record<string, string> = {}) {
  writeFileSync(file("calls.jsonl"), "");
  const res = spawnSync(process.execPath, [SCRIPT, "--config", toml], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
    env: {
      ...process.env,
      CLOUDFLARE_ACCOUNT_ID: "",
      ...env,
      WRANGLER: file("wrangler"),
      FAKE_WRANGLER_STATE: file("state.json"),
      FAKE_WRANGLER_LOG: file("calls.jsonl"),
    },
  });
  const calls: Call[] = readFileSync(file("calls.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  // Each call as its command words, e.g. "queues create hookgate-deliveries".
  const commands = calls.map(({ argv }) => argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--")).join(" "));
  return { status: res.status, stdout: res.stdout, stderr: res.stderr, calls, commands };
}

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");
const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe("secrets", () => {
  it("one list for local development and deployment: .dev.vars.example generates the same names", () => {
    const example = readFileSync(path.join(ROOT, ".dev.vars.example"), "utf8");
    const generated = [...example.matchAll(/^([A-Z_]+)=generate$/gm)].map((m) => m[1]);
    expect(generated).toEqual(Object.keys(SECRETS));
    expect(Object.keys(SECRETS)).toEqual(SECRET_NAMES);
  });
});

describe("npm run setup:cloudflare", () => {
  it("on an empty account: creates the database and both queues, writes the id, migrates, deploys with fresh secrets", {
    timeout: 30_000,
  }, () => {
    const original = readFileSync(toml, "utf8");
    const run = setup();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);

    expect(run.commands).toEqual([
      "whoami",
      "d1 list",
      "d1 create hookgate",
      "d1 list",
      "queues list",
      "queues list",
      "queues create hookgate-deliveries",
      "queues create hookgate-deliveries-dlq",
      "d1 migrations apply DB",
      "secret list",
      "deploy",
    ]);
    // Every call names the temp config (the real wrangler.toml is never used) ...
    for (const { argv } of run.calls) expect(argv[argv.indexOf("--config") + 1]).toBe(toml);
    // ... with the right flags: remote migrations, paged queue listing, JSON output.
    expect(run.calls.find((c) => c.argv[0] === "d1" && c.argv[1] === "migrations")!.argv).toContain("--remote");
    expect(
      run.calls.filter((c) => c.argv[1] === "list" && c.argv[0] === "queues").map((c) => c.argv[c.argv.indexOf("--page") + 1]),
    ).toEqual(["1", "2"]);

    // The database id went into wrangler.toml, on its own line; the rest of the file is as it was.
    const state = readState();
    expect(state.databases).toEqual([{ uuid: expect.any(String), name: "hookgate" }]);
    expect(state.queues).toEqual(["billing-jobs", "mailer", "hookgate-deliveries", "hookgate-deliveries-dlq"]);
    const before = original.split("\n");
    const after = readFileSync(toml, "utf8").split("\n");
    expect(after.length).toBe(before.length);
    const changed = after.flatMap((line, i) => (line === before[i] ? [] : [i]));
    expect(changed).toHaveLength(1);
    expect(before[changed[0]!]).toMatch(/^database_id = "/);
    expect(after[changed[0]!]).toBe(`database_id = "${state.databases[0]!.uuid}"`);

    // Each secret uploaded once, with the deploy, in the format src/env.ts accepts.
    const deploy = run.calls.at(-1)!;
    expect(deploy.argv).toContain("--secrets-file");
    const secrets = deploy.secrets!;
    expect(Object.keys(secrets).sort()).toEqual([...SECRET_NAMES].sort());
    expect(secrets.ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
    expect(secrets.TOKEN_SIGNING_KEY!.length).toBeGreaterThanOrEqual(32);
    expect(secrets.SECRETS_KEY).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secrets.SECRETS_KEY!, "base64")).toHaveLength(32);
    expect(secrets.GATEWAY_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(new Set(Object.values(secrets)).size).toBe(4);
    expect(state.worker!.secrets).toEqual(secrets);
    // The secrets file is gone once deployed.
    expect(existsSync(deploy.secretsFile!)).toBe(false);

    // The operator token is printed once; the other secrets never.
    expect(count(run.stdout, secrets.ADMIN_TOKEN!)).toBe(1);
    for (const name of ["TOKEN_SIGNING_KEY", "SECRETS_KEY", "GATEWAY_SECRET"]) expect(run.stdout).not.toContain(secrets[name]);
  });

  it("run again: creates nothing, puts no secret, leaves wrangler.toml alone, still migrates and deploys", { timeout: 30_000 }, () => {
    expect(setup().status).toBe(0);
    const tomlAfterFirst = readFileSync(toml, "utf8");
    const first = readState();

    const run = setup();
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    // The Hookgate queues are on page 2 now: the listing has to go past page 1 to see them.
    expect(run.commands).toEqual([
      "whoami",
      "d1 list",
      "queues list",
      "queues list",
      "queues list",
      "d1 migrations apply DB",
      "secret list",
      "deploy",
    ]);
    expect(run.calls.at(-1)!.argv).not.toContain("--secrets-file");
    expect(readFileSync(toml, "utf8")).toBe(tomlAfterFirst);
    expect(readState()).toEqual(first);
    expect(run.stdout).not.toContain(first.worker!.secrets.ADMIN_TOKEN);
    expect(run.stdout).toContain("ADMIN_TOKEN was already set");
  });

  it("sets only the secrets that are missing, and never overwrites one", { timeout: 30_000 }, () => {
    expect(setup().status).toBe(0);
    const state = readState();
    const kept = { ...state.worker!.secrets };
    delete state.worker!.secrets.GATEWAY_SECRET;
    writeState(state);

    const run = setup();
    expect(run.status).toBe(0);
    const sent = run.calls.at(-1)!.secrets!;
    expect(Object.keys(sent)).toEqual(["GATEWAY_SECRET"]);
    expect(sent.GATEWAY_SECRET).not.toBe(kept.GATEWAY_SECRET);
    expect(readState().worker!.secrets).toEqual({ ...kept, GATEWAY_SECRET: sent.GATEWAY_SECRET });
    expect(run.stdout).not.toContain(kept.ADMIN_TOKEN);
  });

  it("not logged in: exits non-zero with one readable line, before touching anything", { timeout: 30_000 }, () => {
    writeState({ ...emptyAccount(), loggedIn: false });
    const original = readFileSync(toml, "utf8");
    const run = setup();
    expect(run.status).not.toBe(0);
    expect(lines(run.stderr)).toEqual(["setup:cloudflare: not logged in: run npx wrangler login (or set CLOUDFLARE_API_TOKEN)"]);
    expect(run.commands).toEqual(["whoami"]);
    expect(readFileSync(toml, "utf8")).toBe(original);
  });

  it("several accounts: asks for CLOUDFLARE_ACCOUNT_ID instead of guessing", { timeout: 30_000 }, () => {
    const accounts = [
      { id: "a".repeat(32), name: "Personal" },
      { id: "b".repeat(32), name: "Acme" },
    ];
    writeState({ ...emptyAccount(), accounts });
    const run = setup();
    expect(run.status).not.toBe(0);
    expect(lines(run.stderr)).toEqual([
      `setup:cloudflare: several Cloudflare accounts: set CLOUDFLARE_ACCOUNT_ID to the one to deploy to: Personal (${"a".repeat(32)}), Acme (${"b".repeat(32)})`,
    ]);
    expect(run.commands).toEqual(["whoami"]);

    const chosen = setup({ CLOUDFLARE_ACCOUNT_ID: "b".repeat(32) });
    expect(chosen.status).toBe(0);
    expect(chosen.stdout).toContain("account Acme");
  });

  it("a failed deploy: wrangler's error in one line, no secret set, no token printed", { timeout: 30_000 }, () => {
    // What wrangler 4 says, non-interactively, on an account that never registered its workers.dev subdomain.
    const onboarding = "https://dash.cloudflare.com/0123456789abcdef0123456789abcdef/workers/onboarding";
    const message = `You can either deploy your worker to one or more routes by specifying them in your wrangler.toml file, or register a workers.dev subdomain here:\n\n  ${onboarding}`;
    writeState({ ...emptyAccount(), failDeploy: message });
    const run = setup();
    expect(run.status).not.toBe(0);
    expect(lines(run.stderr).at(-1)).toBe(
      `setup:cloudflare: wrangler deploy failed: You can either deploy your worker to one or more routes by specifying them in your wrangler.toml file, or register a workers.dev subdomain here: ${onboarding}`,
    );
    expect(readState().worker).toBeNull();
    expect(run.stdout).not.toContain("hgadmin_");
    const deploy = run.calls.at(-1)!.argv;
    expect(existsSync(deploy[deploy.indexOf("--secrets-file") + 1]!)).toBe(false);
  });
});
