// `npm start`: local secrets, local D1 migrations, then `wrangler dev` on 127.0.0.1:8787.
import { spawn } from "node:child_process";
import { applyLocalMigrations, childEnv, ensureDevVars, ROOT, wranglerBin } from "./local-env.mjs";

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
`);
const child = spawn(wranglerBin(), ["dev", "--ip", "127.0.0.1", "--port", port], {
  cwd: ROOT,
  stdio: "inherit",
  env: childEnv(),
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
