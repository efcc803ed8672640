import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTools, DIST } from "../../scripts/build-tools.mjs";

/**
 * The built packages as a consumer gets them: `hookgate/client` and `hookgate/verify` through the
 * package's `exports`, imported by Node itself (not Vitest's resolver) and type-checked by tsc the
 * way a Node project (NodeNext) and a Workers project (workers-types, no Node types) would.
 */
const ROOT = path.resolve(import.meta.dirname, "../..");
const TSC = path.join(ROOT, "node_modules/.bin/tsc");
let consumer: string;

beforeAll(async () => {
  await buildTools();
  // A project next door with this package installed (a symlink, as `npm link` makes).
  consumer = mkdtempSync(path.join(tmpdir(), "hookgate-consumer-"));
  mkdirSync(path.join(consumer, "node_modules/@cloudflare"), { recursive: true });
  mkdirSync(path.join(consumer, "node_modules/@types"), { recursive: true });
  symlinkSync(ROOT, path.join(consumer, "node_modules/hookgate"));
  symlinkSync(path.join(ROOT, "node_modules/@types/node"), path.join(consumer, "node_modules/@types/node"));
  symlinkSync(path.join(ROOT, "node_modules/@cloudflare/workers-types"), path.join(consumer, "node_modules/@cloudflare/workers-types"));
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
}, 60_000);
afterAll(() => rmSync(consumer, { recursive: true, force: true }));

const node = (script: string, cwd: string) =>
  spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd, encoding: "utf8", timeout: 20_000 });

/** Both subpaths, imported by Node from `cwd` as a receiver's code would, and used. */
function expectBothWork(cwd: string) {
  const script = `
    import { createHmac } from "node:crypto";
    import { verifyWebhook, WebhookVerificationError } from "hookgate/verify";
    import { createHookgateClient } from "hookgate/client";
    const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    const body = JSON.stringify({ id: "evt_1", type: "a.b", createdAt: "2025-01-01T00:00:00.000Z", data: { n: 1 } });
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac("sha256", secret).update(t + "." + body).digest("hex");
    const event = await verifyWebhook({ secret, headers: { "x-webhook-signature": "t=" + t + ",v1=" + v1 }, body: Buffer.from(body) });
    const refused = await verifyWebhook({ secret, headers: {}, body }).catch((e) => e instanceof WebhookVerificationError && e.reason);
    let seen;
    const client = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "k", fetch: async (r) => { seen = r.headers.get("authorization"); return Response.json({ data: [], nextCursor: null }); } });
    const { data } = await client.GET("/v1/keys");
    console.log(JSON.stringify({ event, refused, seen, data }));
  `;
  const res = node(script, cwd);
  expect(res.stderr).toBe("");
  expect(JSON.parse(res.stdout)).toEqual({
    event: { id: "evt_1", type: "a.b", createdAt: "2025-01-01T00:00:00.000Z", data: { n: 1 } },
    refused: "missing_signature",
    seen: "Bearer k",
    data: { data: [], nextCursor: null },
  });
}

describe("the built packages", () => {
  it("package.json exports ./client and ./verify (ESM + types) and the hookgate bin", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.exports["./client"]).toEqual({ types: "./dist/client/index.d.ts", default: "./dist/client/index.js" });
    expect(pkg.exports["./verify"]).toEqual({ types: "./dist/verify/index.d.ts", default: "./dist/verify/index.js" });
    expect(pkg.bin).toEqual({ hookgate: "dist/cli/hookgate.js" });
    for (const file of ["client/index.js", "client/index.d.ts", "client/schema.d.ts", "verify/index.js", "verify/index.d.ts"]) {
      expect(statSync(path.join(DIST, file)).size, file).toBeGreaterThan(0);
    }
    const cli = path.join(DIST, "cli/hookgate.js");
    expect(readFileSync(cli, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(statSync(cli).mode & 0o111).not.toBe(0);
  });

  it("Node imports both by name, and they work (verify against a signature made with node:crypto)", () => {
    for (const cwd of [consumer, ROOT]) expectBothWork(cwd);
  });

  it("type-checks in a Node project (NodeNext) and in a Workers project (workers-types, no Node types)", () => {
    const usage = `
      import { createHookgateClient, type HookgateClient, type Schema } from "hookgate/client";
      import { verifyWebhook, WebhookVerificationError, type WebhookEvent } from "hookgate/verify";
      const client: HookgateClient = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "k" });
      export async function publish(): Promise<string | undefined> {
        const { data } = await client.POST("/v1/events", { body: { type: "invoice.paid", data: { amount: 1 } } });
        // @ts-expect-error not a path of the API
        await client.GET("/v1/not-a-path");
        const hook: Schema<"Webhook"> | undefined = undefined;
        void hook;
        return data?.deliveries[0]?.webhookId;
      }
      export async function receive(request: Request): Promise<WebhookEvent<{ amount: number }> | string> {
        try {
          return await verifyWebhook<{ amount: number }>({ secret: "whsec_x", headers: request.headers, body: await request.text() });
        } catch (err) {
          if (err instanceof WebhookVerificationError) return err.reason;
          throw err;
        }
      }
    `;
    const projects = {
      node: { module: "NodeNext", moduleResolution: "NodeNext", types: ["node"], lib: ["ES2022"] },
      workers: { module: "ES2022", moduleResolution: "Bundler", types: ["@cloudflare/workers-types"], lib: ["ES2022"] },
    };
    for (const [name, options] of Object.entries(projects)) {
      const dir = path.join(consumer, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, "usage.ts"), usage);
      writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { ...options, target: "ES2022", strict: true, noEmit: true, skipLibCheck: true },
          files: ["usage.ts"],
        }),
      );
      const res = spawnSync(TSC, ["-p", dir], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      expect(`${res.stdout}${res.stderr}`, name).toBe("");
      expect(res.status, name).toBe(0);
    }
  }, 60_000);
});

/** What the Worker needs: bundled into it at deploy time, never installed by a receiver. */
const SERVER_PACKAGES = ["hono", "drizzle-orm", "zod", "@hono/zod-openapi", "re2js", "@cfworker/json-schema"];

/** npm as a developer runs it: none of the npm_* variables of a surrounding `npm test`, the cache and registry aside. */
function npm(args: string[], cwd: string) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || /^npm_config_(cache|registry|userconfig)$/i.test(k)),
  );
  return spawnSync("npm", ["--no-audit", "--no-fund", "--loglevel=error", ...args], { cwd, env, encoding: "utf8", timeout: 120_000 });
}

/** Top-level package names in a node_modules folder (scoped ones as @scope/name). */
function installed(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => (name.startsWith("@") ? readdirSync(path.join(dir, name)).map((sub) => `${name}/${sub}`) : [name]))
    .sort();
}

describe("the package as npm installs it", () => {
  let receiver: string;
  beforeAll(() => {
    // `npm pack` (its prepack build already ran in the first beforeAll), then `npm install` of the
    // tarball into an empty project, preferring npm's cache (openapi-fetch is there after `npm ci`).
    receiver = mkdtempSync(path.join(tmpdir(), "hookgate-receiver-"));
    const pack = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", receiver], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = path.join(receiver, JSON.parse(pack.stdout)[0].filename);
    writeFileSync(path.join(receiver, "package.json"), JSON.stringify({ name: "receiver", type: "module", private: true }));
    const install = npm(["install", tarball, "--prefer-offline", "--no-package-lock"], receiver);
    expect(install.status, install.stderr).toBe(0);
  }, 180_000);
  afterAll(() => rmSync(receiver, { recursive: true, force: true }));

  it("brings openapi-fetch and nothing of the server (hono, drizzle-orm, zod…)", () => {
    const modules = path.join(receiver, "node_modules");
    expect(installed(modules)).toEqual(["hookgate", "openapi-fetch", "openapi-typescript-helpers"]);
    for (const name of SERVER_PACKAGES) expect(existsSync(path.join(modules, name)), name).toBe(false);
    const pkg = JSON.parse(readFileSync(path.join(modules, "hookgate/package.json"), "utf8"));
    expect(Object.keys(pkg.dependencies)).toEqual(["openapi-fetch"]);
  });

  it("hookgate/verify and hookgate/client import and work from it", () => {
    expectBothWork(receiver);
  });

  it("its hookgate bin runs (npx hookgate), --help and a command that fails cleanly", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const help = npm(["exec", "--no", "--", "hookgate", "--help"], receiver);
    expect(help.stderr).toBe("");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^hookgate \d+\.\d+\.\d+: the command line for a Hookgate deployment\n/);
    const refused = npm(
      ["exec", "--no", "--", "hookgate", "trigger", "a.b", "--url", `http://127.0.0.1:${port}`, "--api-key", "k"],
      receiver,
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`hookgate: cannot reach http://127.0.0.1:${port}: connection refused\n`);
  });
});
