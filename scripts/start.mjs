// `npm start`: local secrets, local D1 migrations, then `wrangler dev` on 127.0.0.1:8787,
// with the scheduled handler run every minute as the Cron Trigger does in production.
import { spawn } from "node:child_process";
import { applyLocalMigrations, childEnv, ensureDevVars, ROOT, runCronLocally, wranglerBin } from "./local-env.mjs";

const vars = ensureDevVars();
applyLocalMigrations();
const port = process.env.PORT ?? "8787";
console.log(`
  Hookgate is starting on http://127.0.0.1:${port}
  Local admin token (ADMIN_TOKEN from .dev.vars):

    ${vars.ADMIN_TOKEN}

  Try: curl -s -X POST http://127.0.0.1:${port}/admin/tenants \\
         -H "Authorization: Bearer ${vars.ADMIN_TOKEN}" -H "Content-Type: application/json" \\
         -d '{"name":"Acme"}'

  The cron handler (delivery sweep, event retention) runs every minute; wrangler's
  "Scheduled Workers are not automatically triggered" warning does not apply here.
`);
const child = spawn(wranglerBin(), ["dev", "--ip", "127.0.0.1", "--port", port], {
  cwd: ROOT,
  stdio: "inherit",
  env: childEnv(),
});
// wrangler dev does not fire Cron Triggers by itself; without this, a delivery whose
// queue message was lost would never be repaired locally, nor old events purged.
runCronLocally(`http://127.0.0.1:${port}`);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
