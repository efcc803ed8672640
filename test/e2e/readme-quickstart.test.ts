import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildTools } from "../../scripts/build-tools.mjs";
import { adminToken, api, baseUrl } from "./client";
import { consumerProject, docBlock, typeCheck, writeExample } from "./readme-blocks";
import { until } from "./receiver";

const README = "README.md";
const TOOLS_GUIDE = "docs/cli-and-sdk.md";

/** What the Quickstart printed, and the tenant key it made (for the examples that build on it). */
let quickstart: { out: string; key: string };

beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), "hookgate-quickstart-"));
  try {
    // The quickstart reads the token from .dev.vars in the working directory, as `npm start` leaves it.
    writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${adminToken()}\n`);
    const script = docBlock(README, "quickstart", "sh").replaceAll("http://127.0.0.1:8787", baseUrl());
    // One line after the block, writing to a file: the block's own output is left as printed.
    const out = execFileSync("bash", ["-euo", "pipefail", "-c", `${script}\nprintf %s "$KEY" > quickstart.key\n`], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
    });
    quickstart = { out, key: readFileSync(path.join(dir, "quickstart.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);

describe("README quickstart", () => {
  it("works as printed against wrangler dev", () => {
    const { out } = quickstart;
    expect(out).toContain('"name": "Default key"');
    expect(out).toContain("CI key lists keys: 200");
    expect(out).toMatch(/"code": "insufficient_scope",\s*"requiredScope": "keys:write"/);
    expect(out).toContain("revoke: 204");
    expect(out).toMatch(/"status": 401,\s*"code": "credential_revoked"/);
    expect(out).toMatch(/operator tenant\.created ten_/);
    expect(out).toMatch(/key_\w+ key\.revoked key_/);
    expect(out).toContain('"name": "invoice.paid"');
    expect(out).toMatch(/"secret": "whsec_[A-Za-z0-9+/]{43}="/);
    expect(out).toMatch(/"type": "invoice\.paid",\s*"deliveries": \[\s*\{\s*"id": "dlv_\w+",\s*"status": "pending"/);
    expect(out.trim().split("\n").at(-1)).toBe("1");
  });
});

/** Runs a printed example with Node, as a user would (`node client.mjs`), with only `env` set. */
function runExample(file: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [file], { cwd: path.dirname(file), env: { PATH: process.env.PATH ?? "", ...env } });
  let stdout = "";
  let stderr = "";
  const waiting: (() => void)[] = [];
  child.stdout.on("data", (d) => {
    stdout += d;
    for (const wake of waiting.splice(0)) wake();
  });
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  /** The nth line printed, once it is complete (rejects when the example ends without it). */
  async function line(n: number): Promise<string> {
    for (;;) {
      const lines = stdout.split("\n");
      if (lines.length > n + 1) return lines[n] ?? "";
      if (child.exitCode !== null) throw new Error(`the example ended without line ${n}: ${stdout}${stderr}`);
      await Promise.race([new Promise<void>((wake) => waiting.push(wake)), done]);
    }
  }
  return { line, done };
}

describe("the typed client's and the verifier's examples, on the Quickstart's tenant", () => {
  let project: string;
  let verifier: { fetch(request: Request, env: { HOOKGATE_SECRET: string }): Promise<Response> };
  const answers: { status: number; text: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      // The example is a Workers handler: hand it the delivery as a Request, as a Worker would get it.
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks) });
      const answer = await verifier.fetch(request, { HOOKGATE_SECRET: await secret });
      const text = await answer.text();
      answers.push({ status: answer.status, text });
      res.writeHead(answer.status, { "content-type": "text/plain" }).end(text);
    });
  });
  // The subscription's secret, known once the client example prints it.
  let resolveSecret: (secret: string) => void = () => {};
  const secret = new Promise<string>((resolve) => (resolveSecret = resolve));
  let receiverUrl = "";

  beforeAll(async () => {
    await buildTools(); // with the declarations: the examples are type-checked as printed
    project = consumerProject();
    await writeExample(project, "client", docBlock(TOOLS_GUIDE, "client-example", "ts"));
    const file = await writeExample(project, "receiver", docBlock(TOOLS_GUIDE, "verify-example", "ts"));
    verifier = (await import(pathToFileURL(file).href)).default;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    receiverUrl = `http://127.0.0.1:${address.port}/hooks`;
  }, 90_000);
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("type-check as printed", () => {
    expect(typeCheck(project, ["client", "receiver"])).toBe("");
  });

  it("the client subscribes and publishes data the Quickstart's schema accepts; the verifier accepts the delivery", async () => {
    // Only the addresses change: the deployment is the e2e wrangler dev, the endpoint the verifier above.
    const source = readFileSync(path.join(project, "client.mjs"), "utf8")
      .replaceAll("https://hookgate.example.com", baseUrl())
      .replaceAll("https://example.com/hooks", receiverUrl);
    writeFileSync(path.join(project, "client-local.mjs"), source);
    const log = vi.spyOn(console, "log");
    try {
      const run = runExample(path.join(project, "client-local.mjs"), { HOOKGATE_API_KEY: quickstart.key, ADMIN_TOKEN: adminToken() });
      // The secret is printed before the publish, so the verifier has it when the delivery comes.
      resolveSecret((await run.line(0)).split(" ")[1] ?? "");
      const { code, stdout, stderr } = await run.done;
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const [subscribed, published] = stdout.trim().split("\n");
      const [webhookId, printedSecret] = subscribed?.split(" ") ?? [];
      const [eventId, deliveries] = published?.split(" ") ?? [];
      expect(webhookId).toMatch(/^wh_\w+$/);
      expect(printedSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(eventId).toMatch(/^evt_\w+$/);
      expect(deliveries).toBe("2"); // the Quickstart's subscription and the example's

      const answer = await until("the delivery at the verifier", () => answers[0]);
      expect(answer).toEqual({ status: 200, text: "ok" });
      expect(log).toHaveBeenCalledWith(eventId, "invoice.paid", 42);
      const delivery = await until("the delivery settled", async () => {
        const list = await api("GET", `/v1/deliveries?webhookId=${webhookId}`, { key: quickstart.key });
        return list.body.data.find((d: { status: string }) => d.status === "succeeded");
      });
      expect(delivery).toMatchObject({ eventId, status: "succeeded" });
    } finally {
      log.mockRestore();
    }
  });

  it("the verifier refuses a delivery whose body or secret is not the signed one", async () => {
    const body = JSON.stringify({ id: "evt_forged", type: "invoice.paid", createdAt: new Date().toISOString(), data: { amount: 1 } });
    const t = Math.floor(Date.now() / 1000);
    const { createHmac } = await import("node:crypto");
    const signed = (key: string, text: string) => `t=${t},v1=${createHmac("sha256", key).update(`${t}.${text}`).digest("hex")}`;
    const env = { HOOKGATE_SECRET: "whsec_the_receivers_own_secret_000000" };
    const post = (signature: string | null, text: string) =>
      verifier.fetch(
        new Request("http://127.0.0.1/hooks", {
          method: "POST",
          headers: signature ? { "x-webhook-signature": signature } : {},
          body: text,
        }),
        env,
      );
    const good = await post(signed(env.HOOKGATE_SECRET, body), body);
    expect(good.status).toBe(200);
    const tampered = await post(signed(env.HOOKGATE_SECRET, body), body.replace('"amount":1', '"amount":1000'));
    expect([tampered.status, await tampered.text()]).toEqual([400, "invalid_signature"]);
    const otherSecret = await post(signed("whsec_someone_elses_secret_0000000000", body), body);
    expect([otherSecret.status, await otherSecret.text()]).toEqual([400, "invalid_signature"]);
    const unsigned = await post(null, body);
    expect([unsigned.status, await unsigned.text()]).toEqual([400, "missing_signature"]);
  });
});
