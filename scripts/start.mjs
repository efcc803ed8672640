// `npm start`: local secrets, local D1 migrations (one line), then `wrangler dev` on 127.0.0.1:8787;
// once wrangler says it is ready, the local admin token and the URLs to open, as the last thing printed.
import { spawn } from "node:child_process";
import { applyLocalMigrations, childEnv, ensureDevVars, migrationsLine, ROOT, wranglerBin } from "./local-env.mjs";

const vars = ensureDevVars();
try {
  console.log(migrationsLine(applyLocalMigrations({ quiet: true })));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
const port = process.env.PORT ?? "8787";
const base = `http://127.0.0.1:${port}`;

/** What a developer needs next: shown after wrangler's own start-up output, not above it. */
const banner = `
  Hookgate is ready on ${base}

    API             ${base}/v1 (tenants)   ${base}/admin (operator)
    Dashboard       ${base}/dashboard
    API reference   ${base}/docs

  Local admin token (ADMIN_TOKEN in .dev.vars):

    ${vars.ADMIN_TOKEN}

  Try: curl -s -X POST ${base}/admin/tenants \\
         -H "Authorization: Bearer ${vars.ADMIN_TOKEN}" -H "Content-Type: application/json" \\
         -d '{"name":"Acme"}'
`;

const child = spawn(wranglerBin(), ["dev", "--ip", "127.0.0.1", "--port", port], {
  cwd: ROOT,
  stdio: ["inherit", "pipe", "pipe"],
  env: childEnv(),
});
// wrangler's output goes through as it comes; the banner follows its "Ready on" line once.
let seen = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (seen === null) return;
  seen = (seen + chunk).slice(-4096);
  if (/Ready on https?:\/\/\S+[^\S\n]*\r?\n/.test(seen)) {
    seen = null;
    console.log(banner);
  }
});
child.stderr.on("data", (chunk) => process.stderr.write(chunk));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
