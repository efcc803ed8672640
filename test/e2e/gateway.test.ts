import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { api, baseUrl, createTenant } from "./client";

type Seen = { method: string; url: string; headers: IncomingMessage["headers"]; identityLike: string[]; body: string; verified: boolean };

/**
 * The operator's own API, checking the gateway as docs/gateway-and-operator.md tells it to:
 * recompute v2 of X-Hookgate-Signature with GATEWAY_SECRET (over the lines v2,
 * t, method, target, tenant, credential, request id, scopes, mode) and refuse
 * a mismatch.
 */
function verifyGatewaySignature(req: IncomingMessage, secret: string): boolean {
  const header = String(req.headers["x-hookgate-signature"] ?? "");
  const [, t, v2] = /^t=(\d+),v1=[0-9a-f]{64},v2=([0-9a-f]{64})$/.exec(header) ?? [];
  if (!t || !v2 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const h = req.headers;
  const fields = [h["x-hookgate-tenant-id"], h["x-hookgate-credential-id"], h["x-hookgate-request-id"], h["x-hookgate-scopes"]];
  const message = ["v2", t, req.method, req.url, ...fields, h["x-hookgate-mode"]].join("\n");
  const expected = createHmac("sha256", secret).update(message).digest();
  return timingSafeEqual(expected, Buffer.from(v2, "hex"));
}

/** The header names the origin received that read as X-Hookgate-* once `_` is taken for `-`, as sent (lowercased). */
const identityLike = (req: IncomingMessage) =>
  req.rawHeaders
    .filter((_, i) => i % 2 === 0)
    .map((n) => n.toLowerCase())
    .filter((n) => n.replaceAll("_", "-").startsWith("x-hookgate-"));

const IDENTITY = [
  "x-hookgate-credential-id",
  "x-hookgate-mode",
  "x-hookgate-request-id",
  "x-hookgate-scopes",
  "x-hookgate-signature",
  "x-hookgate-tenant-id",
];

describe("the edge gateway in front of a real origin", () => {
  const seen: Seen[] = [];
  let origin: Server;
  let originUrl = "";

  beforeAll(async () => {
    const secret = inject("gatewaySecret");
    origin = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const verified = verifyGatewaySignature(req, secret);
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          identityLike: identityLike(req),
          body: Buffer.concat(chunks).toString("utf8"),
          verified,
        });
        if (!verified) return res.writeHead(401).end("bad signature");
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ tenant: req.headers["x-hookgate-tenant-id"], echo: Buffer.concat(chunks).length }));
      });
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const address = origin.address();
    if (!address || typeof address === "string") throw new Error("no address");
    originUrl = `http://127.0.0.1:${address.port}`;
    expect(
      (await api("PUT", "/admin/scopes", { admin: true, body: { scopes: [{ name: "runs:read" }, { name: "runs:write" }] } })).status,
    ).toBe(200);
    const put = await api("PUT", "/admin/gateway", {
      admin: true,
      body: {
        origin: originUrl,
        routes: [
          { path: "/e2e-api/runs/*", method: "GET", scope: "runs:read" },
          { path: "/e2e-api/runs/*", method: "POST", scope: "runs:write" },
        ],
      },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });
  afterAll(() => new Promise<void>((resolve) => origin.close(() => resolve())));

  it("admits a key and an OAuth token, refuses the rest before the origin, and the origin can verify who called", async () => {
    const { tenant, key } = await createTenant();
    const reader = await api("POST", "/v1/keys", { key: key.key, body: { name: "runs reader", scopes: ["runs:read"] } });
    expect(reader.status).toBe(201);

    const viaKey = await fetch(`${baseUrl()}/e2e-api/runs/7?detail=1`, {
      headers: {
        "x-api-key": reader.body.key,
        "x-hookgate-tenant-id": "ten_spoofed",
        // Spelled with underscores: an origin folding _ into - would take these for the identity headers.
        "X-Hookgate_Scopes": "runs:write",
        X_HOOKGATE_SCOPES: "runs:write",
        "x-hookgate_tenant-id": "ten_spoofed",
        X_Hookgate_Mode: "test",
        X_Custom_Trace: "kept",
      },
    });
    expect(viaKey.status).toBe(200);
    expect(await viaKey.json()).toEqual({ tenant: tenant.id, echo: 0 });
    expect(viaKey.headers.get("x-ratelimit-remaining")).toBe("59");
    const first = seen.at(-1)!;
    expect(first).toMatchObject({ method: "GET", url: "/e2e-api/runs/7?detail=1", verified: true });
    expect(first.headers["x-api-key"]).toBeUndefined();
    expect(first.headers["x-hookgate-credential-id"]).toBe(reader.body.id);
    expect(first.headers["x-hookgate-request-id"]).toBe(viaKey.headers.get("x-request-id"));
    expect(first.identityLike.sort()).toEqual(IDENTITY);
    // Underscored names do cross the hop (this one arrives), so the ones above were dropped by the gateway.
    expect(first.headers.x_custom_trace).toBe("kept");
    expect(first.headers["x-hookgate-scopes"]).toBe("runs:read");
    expect(first.headers["x-hookgate-mode"]).toBe("live");

    const client = await api("POST", "/v1/oauth-clients", { key: key.key, body: { name: "runner", scopes: ["runs:write"] } });
    const token = await fetch(`${baseUrl()}/oauth/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${client.body.clientId}:${client.body.clientSecret}`)}`,
      },
      body: "grant_type=client_credentials",
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const payload = JSON.stringify({ run: "x".repeat(300 * 1024) });
    const viaToken = await fetch(`${baseUrl()}/e2e-api/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
      body: payload,
    });
    expect(viaToken.status).toBe(200);
    expect(await viaToken.json()).toEqual({ tenant: tenant.id, echo: payload.length });
    expect(seen.at(-1)).toMatchObject({ method: "POST", verified: true });
    expect(seen.at(-1)!.identityLike.sort()).toEqual(IDENTITY);
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();

    const before = seen.length;
    expect((await fetch(`${baseUrl()}/e2e-api/runs/7`)).status).toBe(401);
    const wrongScope = await fetch(`${baseUrl()}/e2e-api/runs/7`, { method: "POST", headers: { "x-api-key": reader.body.key } });
    expect(wrongScope.status).toBe(403);
    expect(((await wrongScope.json()) as { requiredScope: string }).requiredScope).toBe("runs:write");
    expect(seen.length).toBe(before);
  });
});
