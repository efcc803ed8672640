import { execFile } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { adminToken, baseUrl } from "./client";
import { startReceiver, until } from "./receiver";

const README = path.resolve(import.meta.dirname, "../../README.md");

function pluginBlock(): string {
  const text = readFileSync(README, "utf8");
  const block = /<!-- plugin:start -->\s*```sh\n([\s\S]*?)```\s*<!-- plugin:end -->/.exec(text);
  if (!block?.[1]) throw new Error('README has no "Plugging in your product" block');
  return block[1];
}

/** The README's Node example for the origin, verbatim in spirit: the signature must check out. */
function callerOf(req: IncomingMessage, secret: string) {
  const h = req.headers;
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(h["x-hookgate-signature"] ?? "")) ?? [];
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return null;
  const signed = [t, req.method, req.url, h["x-hookgate-tenant-id"], h["x-hookgate-credential-id"], h["x-hookgate-request-id"]].join(".");
  const mac = createHmac("sha256", secret).update(signed).digest();
  return timingSafeEqual(mac, Buffer.from(v1, "hex")) ? { tenantId: h["x-hookgate-tenant-id"] } : null;
}

describe('README "Plugging in your product"', () => {
  it("works as printed against wrangler dev, with a real origin and receiver", async () => {
    const secret = inject("gatewaySecret");
    const calls: { url: string; verified: boolean }[] = [];
    const origin = createServer((req, res) => {
      const who = callerOf(req, secret);
      calls.push({ url: req.url ?? "", verified: who !== null });
      res.writeHead(who ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify({ ok: who !== null }));
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const address = origin.address();
    if (!address || typeof address === "string") throw new Error("no address");
    const receiver = await startReceiver();
    const dir = mkdtempSync(path.join(tmpdir(), "hookgate-plugin-"));
    try {
      writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${adminToken()}\n`);
      const script = pluginBlock().replaceAll("http://127.0.0.1:8787", baseUrl());
      const { stdout: out } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, ORIGIN: `http://127.0.0.1:${address.port}`, OPS_HOOK: `${receiver.url}/hookgate` },
      });
      expect(out).toContain('["tests:read","tests:write"]');
      expect(out).toContain('"GET /api/tests/* tests:read"');
      expect(out).toContain("GET through the gateway: 200");
      expect(out).toContain('{"status":403,"code":"insufficient_scope","requiredScope":"tests:write"}');
      expect(out).toMatch(/\{"valid":true,"tenantId":"ten_\w+","type":"key","scopes":\["tests:read"\]\}/);
      expect(out).toContain('{"name":"test.completed","owner":"operator"}');
      expect(out).toMatch(/"secret":"whsec_/);
      expect(out).toMatch(/\{"id":"evt_\w+","type":"test.completed"\}/);
      expect(out).toMatch(/operator scopes\.updated scopes/);
      expect(out).toMatch(/operator gateway\.updated gateway/);
      expect(calls).toEqual([{ url: "/api/tests/42", verified: true }]);
      const delivered = await until("the operator endpoint got the event", () => receiver.received.find((r) => r.path === "/hookgate"));
      expect(JSON.parse(delivered.body)).toMatchObject({ type: "test.completed", data: { testId: "42", passed: true } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      origin.close();
      await receiver.close();
    }
  });
});
