// `npm run setup:cloudflare`: from a Cloudflare account (after `npx wrangler login`)
// to a running Hookgate, and the upgrade path afterwards. Safe to run again: it
// creates only what is missing, never recreates a resource nor overwrites a secret,
// and always applies pending D1 migrations before deploying the code that needs them.
//
//   node scripts/setup-cloudflare.mjs [--config path/to/wrangler.toml]
//
// It runs the wrangler that $WRANGLER names, else this project's.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, stripVTControlCharacters } from "node:util";
import { readResources, SECRETS, setDatabaseId } from "./cloudflare-resources.mjs";
import { childEnv, ROOT, wranglerBin } from "./local-env.mjs";

/** An expected failure: reported as one line, without a stack. */
class Fail extends Error {}

const { values: options } = parseArgs({ options: { config: { type: "string" } } });
const CONFIG = path.resolve(options.config ?? path.join(ROOT, "wrangler.toml"));

const say = (line) => console.log(`  ${line}`);

/**
 * Runs wrangler against CONFIG and resolves to `{code, stdout, stderr}`. stdin is
 * closed, so wrangler never stops at a prompt: it takes its non-interactive
 * defaults (migrations apply without asking). With `show`, output is also
 * passed through as it comes, for the long steps.
 */
function wrangler(args, { show = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(wranglerBin(), [...args, "--config", CONFIG], {
      cwd: path.dirname(CONFIG),
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (show) process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (show) process.stderr.write(d);
    });
    child.on("error", (err) => reject(new Fail(`cannot run wrangler (${wranglerBin()}): ${err.code ?? err.message}; run npm install`)));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * wrangler's own error line (`✘ [ERROR] ...`, joined with the next line when it
 * ends in ":", where wrangler puts the link to follow), else its last line.
 */
function errorLine({ code, stdout, stderr }) {
  const lines = stripVTControlCharacters(`${stderr}\n${stdout}`)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const at = lines.findIndex((l) => l.includes("[ERROR]"));
  if (at === -1) return lines.at(-1) ?? `exit code ${code}`;
  const error = lines[at].replace(/^.*\[ERROR\]\s*/, "");
  return error.endsWith(":") && lines[at + 1] ? `${error} ${lines[at + 1]}` : error;
}

/** Runs wrangler; a non-zero exit becomes "wrangler <command> failed: <its error line>". */
async function must(args, opts) {
  const res = await wrangler(args, opts);
  if (res.code !== 0) {
    const flags = args.findIndex((a) => a.startsWith("-"));
    throw new Fail(`wrangler ${(flags === -1 ? args : args.slice(0, flags)).join(" ")} failed: ${errorLine(res)}`);
  }
  return res;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Fail(`unexpected output from wrangler ${what}: ${text.trim().split("\n")[0] ?? ""}`);
  }
}

/** Rows of the table wrangler prints (cli-table3, `│`-separated), as objects keyed by the header. */
function tableRows(text) {
  const [head, ...body] = stripVTControlCharacters(text)
    .split("\n")
    .filter((line) => line.trimStart().startsWith("│"))
    .map((line) =>
      line
        .split("│")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  return head ? body.map((cells) => Object.fromEntries(head.map((key, i) => [key, cells[i]]))) : [];
}

async function checkLogin(accountId) {
  const res = await wrangler(["whoami", "--json"]);
  let who = null;
  try {
    who = JSON.parse(res.stdout);
  } catch {}
  if (who?.loggedIn === false) throw new Fail("not logged in: run npx wrangler login (or set CLOUDFLARE_API_TOKEN)");
  if (res.code !== 0 || !who?.loggedIn) throw new Fail(`wrangler whoami failed: ${errorLine(res)}`);
  const accounts = who.accounts ?? [];
  // With several accounts wrangler would ask which one, and it cannot ask here.
  if (accounts.length > 1 && !accountId && !process.env.CLOUDFLARE_ACCOUNT_ID) {
    const list = accounts.map((a) => `${a.name} (${a.id})`).join(", ");
    throw new Fail(`several Cloudflare accounts: set CLOUDFLARE_ACCOUNT_ID to the one to deploy to: ${list}`);
  }
  const account = accounts.find((a) => a.id === (accountId ?? process.env.CLOUDFLARE_ACCOUNT_ID)) ?? accounts[0];
  say(`Cloudflare: ${who.email ?? who.authType}${account ? `, account ${account.name}` : ""}`);
}

async function ensureDatabase({ binding, name, id: configuredId }) {
  const find = async () => parseJson((await must(["d1", "list", "--json"])).stdout, "d1 list --json").find((db) => db.name === name);
  let db = await find();
  if (db) {
    say(`D1 database ${name}: exists`);
  } else {
    await must(["d1", "create", name]);
    db = await find();
    if (!db) throw new Fail(`wrangler d1 create ${name} succeeded but the database is not listed`);
    say(`D1 database ${name}: created`);
  }
  if (db.uuid !== configuredId) {
    writeFileSync(CONFIG, setDatabaseId(readFileSync(CONFIG, "utf8"), binding, db.uuid));
    say(`${path.basename(CONFIG)}: database_id = "${db.uuid}"`);
  }
}

/** Every queue name on the account; `queues list` shows one page at a time. */
async function listQueues() {
  const names = new Set();
  for (let page = 1; page <= 1000; page++) {
    const rows = tableRows((await must(["queues", "list", "--page", String(page)])).stdout);
    const before = names.size;
    for (const row of rows) names.add(row.name);
    // An empty page ends the list; a page with nothing new means the API ignored `page`.
    if (rows.length === 0 || names.size === before) break;
  }
  return names;
}

async function ensureQueues(queues) {
  const existing = await listQueues();
  for (const queue of queues) {
    if (existing.has(queue)) {
      say(`Queue ${queue}: exists`);
    } else {
      await must(["queues", "create", queue]);
      say(`Queue ${queue}: created`);
    }
  }
}

/** Secret names not set on the Worker yet: all of them before its first deploy. */
async function missingSecrets() {
  const res = await wrangler(["secret", "list", "--format", "json"]);
  if (res.code !== 0) {
    if (/Worker "[^"]*".* not found/.test(stripVTControlCharacters(res.stderr + res.stdout))) return Object.keys(SECRETS);
    throw new Fail(`wrangler secret list failed: ${errorLine(res)}`);
  }
  const have = new Set(parseJson(res.stdout, "secret list --format json").map((s) => s.name));
  return Object.keys(SECRETS).filter((name) => !have.has(name));
}

/**
 * Deploys with the new secrets in the same upload (`--secrets-file`; secrets
 * already set are kept): the Worker goes live configured, with no window of 503
 * `misconfigured` answers, and no secret is put before the Worker exists.
 */
async function deploy(secrets) {
  if (Object.keys(secrets).length === 0) {
    await must(["deploy"], { show: true });
    return;
  }
  // A private directory (mode 0700) that only lives for this deploy.
  const dir = mkdtempSync(path.join(os.tmpdir(), "hookgate-secrets-"));
  try {
    const file = path.join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
    await must(["deploy", "--secrets-file", file], { show: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  let resources;
  try {
    resources = await readResources(CONFIG);
  } catch (err) {
    throw new Fail(`cannot read ${CONFIG}: ${err.message.split("\n")[0]}`);
  }
  const shown = path.relative(process.cwd(), CONFIG);
  console.log(`Setting up Hookgate (Worker ${resources.worker}) from ${shown.startsWith("..") ? CONFIG : shown}`);
  await checkLogin(resources.accountId);
  await ensureDatabase(resources.database);
  await ensureQueues(resources.queues);

  say("D1 migrations: applying to the remote database");
  await must(["d1", "migrations", "apply", resources.database.binding, "--remote"], { show: true });

  const missing = await missingSecrets();
  const secrets = Object.fromEntries(missing.map((name) => [name, SECRETS[name]()]));
  say(missing.length ? `Secrets: generated ${missing.join(", ")}; uploading them with the deploy` : "Secrets: all set");
  say("Deploying");
  await deploy(secrets);

  console.log("\nHookgate is deployed.");
  if (secrets.ADMIN_TOKEN) {
    console.log(`
  Operator token (ADMIN_TOKEN), shown this once: store it in your password manager.

    ${secrets.ADMIN_TOKEN}
`);
  } else {
    console.log("ADMIN_TOKEN was already set and is not shown again (replace it with: npx wrangler secret put ADMIN_TOKEN).");
  }
}

main().catch((err) => {
  console.error(err instanceof Fail ? `setup:cloudflare: ${err.message}` : err);
  process.exit(1);
});
