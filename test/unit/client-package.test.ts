import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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
    for (const cwd of [consumer, ROOT]) {
      const res = node(script, cwd);
      expect(res.stderr).toBe("");
      expect(JSON.parse(res.stdout)).toEqual({
        event: { id: "evt_1", type: "a.b", createdAt: "2025-01-01T00:00:00.000Z", data: { n: 1 } },
        refused: "missing_signature",
        seen: "Bearer k",
        data: { data: [], nextCursor: null },
      });
    }
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
