import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { transform } from "esbuild";

/**
 * The code blocks README.md and docs/ print, taken out as they stand, so the
 * e2e suite runs them exactly as a reader would copy them.
 */
export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The fenced block between `<!-- marker:start -->` and `<!-- marker:end -->` in `file` (relative to the repository). */
export function docBlock(file: string, marker: string, lang: string): string {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const pattern = new RegExp(`<!-- ${marker}:start -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${marker}:end -->`);
  const block = pattern.exec(text)?.[1];
  if (!block) throw new Error(`${file} has no ${lang} block marked ${marker}`);
  return block;
}

/**
 * A scratch project next door with this package installed (a symlink, as
 * `npm link` makes), so `hookgate/client` and `hookgate/verify` resolve
 * through the package's exports, as they do for a user.
 */
export function consumerProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "hookgate-readme-"));
  mkdirSync(path.join(dir, "node_modules/@types"), { recursive: true });
  symlinkSync(ROOT, path.join(dir, "node_modules/hookgate"));
  symlinkSync(path.join(ROOT, "node_modules/@types/node"), path.join(dir, "node_modules/@types/node"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "readme-examples", type: "module", private: true }));
  return dir;
}

/** Writes `source` (TypeScript or JavaScript) to `<dir>/<name>.ts` as printed, and its JavaScript to `<dir>/<name>.mjs`. */
export async function writeExample(dir: string, name: string, source: string): Promise<string> {
  writeFileSync(path.join(dir, `${name}.ts`), source);
  const { code } = await transform(source, { loader: "ts", format: "esm", target: "node20" });
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  return file;
}

/** Type-checks the printed examples (`<name>.ts` in `dir`) as a strict Node project would; answers tsc's output. */
export function typeCheck(dir: string, names: string[]): string {
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022"],
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: names.map((n) => `${n}.ts`),
    }),
  );
  const res = spawnSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", dir], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return `${res.stdout}${res.stderr}`.trim();
}
