// Builds the developer tools from src/tools into dist/ (git-ignored), as plain ESM JavaScript:
//   dist/client/index.js + .d.ts (+ schema.d.ts)   the package's "hookgate/client"
//   dist/verify/index.js + .d.ts                   the package's "hookgate/verify"
//   dist/cli/hookgate.js                           the `hookgate` bin
// esbuild transpiles and bundles our own modules (dependencies such as openapi-fetch stay imports);
// tsc type-checks src/tools (src/tools/tsconfig.json) and writes the declarations
// (src/tools/tsconfig.lib.json). Run by `npm run build` and `npm run typecheck` (so by `npm test`);
// `--js-only` skips tsc (what `npm run hookgate` does before running the CLI).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SRC = path.join(ROOT, "src/tools");
export const DIST = path.join(ROOT, "dist");
const TSC = path.join(ROOT, "node_modules", ".bin", "tsc");

/** Entry point → output, and the platform it must run on. */
const ENTRIES = [
  { entry: "client/index.ts", out: "client/index.js", platform: "neutral", target: "es2022" },
  { entry: "verify/index.ts", out: "verify/index.js", platform: "neutral", target: "es2022" },
  { entry: "cli/main.ts", out: "cli/hookgate.js", platform: "node", target: "node20", banner: "#!/usr/bin/env node" },
];

/** Builds the tools; with `declarations` (the default) also type-checks them and writes the .d.ts files. */
export async function buildTools({ quiet = true, declarations = true } = {}) {
  if (declarations) tsc("src/tools/tsconfig.json");
  for (const { entry, out, platform, target, banner } of ENTRIES) {
    const result = await build({
      entryPoints: [path.join(SRC, entry)],
      outfile: path.join(DIST, out),
      write: false,
      bundle: true,
      packages: "external",
      format: "esm",
      platform,
      target,
      ...(banner && { banner: { js: banner } }),
      legalComments: "none",
      logLevel: "warning",
    });
    for (const file of result.outputFiles) writeAtomically(file.path, file.contents, out.startsWith("cli/") ? 0o755 : 0o644);
  }
  if (declarations) {
    tsc("src/tools/tsconfig.lib.json");
    // tsc does not copy a hand-written (here: generated) .d.ts input to its outDir.
    writeAtomically(path.join(DIST, "client/schema.d.ts"), readFileSync(path.join(SRC, "client/schema.d.ts")), 0o644);
  }
  if (!quiet) {
    for (const { out } of ENTRIES) console.log(`  dist/${out}: ${(statSync(path.join(DIST, out)).size / 1024).toFixed(1)} KiB`);
  }
}

/** Write-then-rename, so a process running the previous build (a test's CLI) never reads half a file. */
function writeAtomically(file, contents, mode) {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, contents, { mode });
  chmodSync(temp, mode);
  renameSync(temp, file);
}

function tsc(project) {
  mkdirSync(DIST, { recursive: true });
  const res = spawnSync(TSC, ["-p", project], { cwd: ROOT, stdio: "inherit" });
  if (res.status !== 0) throw new Error(`tsc -p ${project} failed`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = new Set(process.argv.slice(2));
  buildTools({ quiet: args.has("--quiet"), declarations: !args.has("--js-only") }).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
