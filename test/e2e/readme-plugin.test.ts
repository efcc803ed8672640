import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, inject, it } from "vitest";
import { adminToken, baseUrl } from "./client";
import { consumerProject, docBlock, writeExample } from "./readme-blocks";
import { startReceiver, until } from "./receiver";

const README = "README.md";
const GATEWAY_GUIDE = "docs/gateway-and-operator.md";

type Caller = { tenantId: string; credentialId: string; scopes: string[]; mode: string } | null;
type OriginRequest = Pick<IncomingMessage, "method" | "url" | "headers">;

describe('README "Plugging in your product"', () => {
  it("works as printed against wrangler dev, with a real origin and receiver", async () => {
    const secret = inject("gatewaySecret");
    // The origin checks the gateway's signature with the example the guide prints, as printed.
    const project = consumerProject();
    const example = await writeExample(project, "origin", docBlock(GATEWAY_GUIDE, "origin-example", "js"));
    const { callerOf } = (await import(pathToFileURL(example).href)) as { callerOf: (req: OriginRequest, secret: string) => Caller };
    const calls: { url: string; verified: boolean; req: OriginRequest }[] = [];
    const origin = createServer((req, res) => {
      const who = callerOf(req, secret);
      calls.push({ url: req.url ?? "", verified: who !== null, req: { method: req.method, url: req.url, headers: { ...req.headers } } });
      res.writeHead(who ? 200 : 401, { "content-type": "application/json" }).end(JSON.stringify({ ok: who !== null }));
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const address = origin.address();
    if (!address || typeof address === "string") throw new Error("no address");
    const receiver = await startReceiver();
    const dir = mkdtempSync(path.join(tmpdir(), "hookgate-plugin-"));
    try {
      writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${adminToken()}\n`);
      const script = docBlock(README, "plugin", "sh").replaceAll("http://127.0.0.1:8787", baseUrl());
      const { stdout: out } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
        env: {
          ...process.env,
          ORIGIN: `http://127.0.0.1:${address.port}`,
          OPS_HOOK: `${receiver.url}/hookgate`,
          CUSTOMER_HOOK: `${receiver.url}/customer`,
        },
      });
      expect(out).toContain('["tests:read","tests:write"]');
      expect(out).toContain('"GET /api/tests/* tests:read"');
      expect(out).toContain("GET through the gateway: 200");
      expect(out).toContain('{"status":403,"code":"insufficient_scope","requiredScope":"tests:write"}');
      expect(out).toMatch(/\{"valid":true,"tenantId":"ten_\w+","type":"key","scopes":\["tests:read"\]\}/);
      expect(out).toContain('{"name":"test.completed","owner":"operator"}');
      expect(out).toMatch(/"secret":"whsec_/);
      expect(out).toMatch(/\{"id":"wh_\w+","url":"http:\/\/127\.0\.0\.1:\d+\/customer","eventTypes":\["test\.completed"\]\}/);
      // The answer lists the tenant's own delivery; the operator's is never shown to the tenant.
      expect(out).toMatch(/\{"id":"evt_\w+","type":"test.completed","deliveries":\["(pending|succeeded)"\]\}/);
      expect(out).toMatch(/operator scopes\.updated scopes/);
      expect(out).toMatch(/operator gateway\.updated gateway/);
      expect(calls.map(({ url, verified }) => ({ url, verified }))).toEqual([{ url: "/api/tests/42", verified: true }]);
      const forwarded = calls[0]?.req as OriginRequest;
      expect(callerOf(forwarded, secret)).toMatchObject({ tenantId: expect.stringMatching(/^ten_/), scopes: ["tests:read"], mode: "live" });
      // What the example must refuse: identity headers, method or path changed after signing, another secret.
      const tampered = (headers: Record<string, string>, change: Partial<OriginRequest> = {}) =>
        callerOf({ ...forwarded, ...change, headers: { ...forwarded.headers, ...headers } }, secret);
      expect(tampered({ "x-hookgate-tenant-id": "ten_someoneelse" })).toBeNull();
      expect(tampered({ "x-hookgate-credential-id": "key_someoneelse" })).toBeNull();
      expect(tampered({ "x-hookgate-scopes": "tests:read tests:write" })).toBeNull();
      expect(tampered({ "x-hookgate-mode": "test" })).toBeNull();
      expect(tampered({}, { method: "DELETE" })).toBeNull();
      expect(tampered({}, { url: "/api/tests/43" })).toBeNull();
      expect(tampered({ "x-hookgate-signature": "" })).toBeNull();
      expect(callerOf(forwarded, `${secret}x`)).toBeNull();

      for (const [path, who] of [
        ["/hookgate", "the operator endpoint"],
        ["/customer", "the tenant's endpoint"],
      ]) {
        const delivered = await until(`${who} got the event`, () => receiver.received.find((r) => r.path === path));
        expect(JSON.parse(delivered.body)).toMatchObject({ type: "test.completed", data: { testId: "42", passed: true } });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(project, { recursive: true, force: true });
      origin.close();
      await receiver.close();
    }
  });
});
