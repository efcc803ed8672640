import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, expectedSignature, expectedSignatureV2, parseSignature, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, newKey, newTenant } from "./helpers";

beforeEach(async () => {
  expect((await putScopes([{ name: "tests:read" }, { name: "tests:write" }])).status).toBe(200);
  expect((await putGateway({ routes: [{ path: "/tests/*" }] })).status).toBe(200);
});
afterEach(() => vi.restoreAllMocks());

/** The identity headers Hookgate itself sets; nothing else named like them may reach the origin. */
const IDENTITY = [
  "x-hookgate-tenant-id",
  "x-hookgate-credential-id",
  "x-hookgate-scopes",
  "x-hookgate-request-id",
  "x-hookgate-signature",
  "x-hookgate-mode",
];

describe("gateway: what the origin can trust", () => {
  it("no inbound header that reads as X-Hookgate-* once _ is taken for - reaches the origin", async () => {
    const { key, tenant } = await newTenant();
    const reader = await newKey(key, { scopes: ["tests:read"] });
    const origin = stubOrigin();
    const spoofs = {
      "X-Hookgate_Scopes": "api:write",
      X_HOOKGATE_SCOPES: "api:write",
      "x-hookgate_tenant-id": "ten_spoofed",
      X_Hookgate_Credential_Id: "key_spoofed",
      "x_hookgate-mode": "test",
      "X-HOOKGATE-EXTRA": "spoof",
    };
    const res = await callUrl("GET", `${BASE}/tests/1`, {
      key: reader.key,
      headers: { ...spoofs, "x-hookgateway": "kept", x_custom: "kept" },
    });
    expect(res.status).toBe(200);
    const sent = origin.calls[0]!.headers;
    const named = [...sent.keys()].filter((n) => n.replaceAll("_", "-").startsWith("x-hookgate-"));
    expect(named.sort()).toEqual([...IDENTITY].sort());
    expect(sent.get("x-hookgate-scopes")).toBe("tests:read");
    expect(sent.get("x-hookgate-tenant-id")).toBe(tenant.id);
    expect(sent.get("x-hookgate-credential-id")).toBe(reader.id);
    expect(sent.get("x-hookgate-mode")).toBe("live");
    expect(sent.get("x-hookgateway")).toBe("kept");
    expect(sent.get("x_custom")).toBe("kept");
  });

  it("drops the headers the request's Connection header names, and hop-by-hop ones, both ways", async () => {
    const { key } = await newTenant();
    const origin = stubOrigin(
      () => new Response("ok", { headers: { connection: "x-origin-hop", "x-origin-hop": "1", "x-origin-kept": "1" } }),
    );
    const res = await callUrl("GET", `${BASE}/tests/1`, {
      key,
      headers: {
        connection: "X-Hop-One, x-hop-two ,keep-alive",
        "x-hop-one": "1",
        "x-hop-two": "2",
        "keep-alive": "timeout=5",
        "x-kept": "1",
      },
    });
    expect(res.status).toBe(200);
    const sent = origin.calls[0]!.headers;
    for (const name of ["connection", "x-hop-one", "x-hop-two", "keep-alive"]) expect(sent.get(name), name).toBeNull();
    expect(sent.get("x-kept")).toBe("1");
    expect(res.headers.get("x-origin-hop")).toBeNull();
    expect(res.headers.get("x-origin-kept")).toBe("1");
  });

  it("signs v2 over the lines v2, t, method, target, tenant, credential, request id, scopes and mode; v1 stays as it was", async () => {
    const { key, tenant } = await newTenant();
    const writer = await newKey(key, { scopes: ["tests:write", "tests:read"] });
    const origin = stubOrigin();
    // A path holding dots: v1's dotted string could be split more than one way, v2's lines cannot.
    const res = await callUrl("POST", `${BASE}/tests/a.b/c.d?x=1.2`, { key: writer.key, headers: { "x-request-id": "req.with.dots" } });
    expect(res.status).toBe(200);
    const sent = origin.calls[0]!.headers;
    const { t, v1, v2 } = parseSignature(sent.get("x-hookgate-signature"));
    const fields = {
      t,
      method: "POST",
      target: "/tests/a.b/c.d?x=1.2",
      tenantId: tenant.id,
      credentialId: writer.id,
      requestId: "req.with.dots",
      scopes: "tests:write tests:read",
      mode: "live",
    };
    expect(sent.get("x-hookgate-scopes")).toBe(fields.scopes);
    expect(v2).toBe(await expectedSignatureV2(fields));
    expect(v1).toBe(await expectedSignature(t, "POST", fields.target, tenant.id, writer.id, "req.with.dots"));
    // Every field counts: another scope list or mode gives another v2.
    expect(v2).not.toBe(await expectedSignatureV2({ ...fields, scopes: "tests:write" }));
    expect(v2).not.toBe(await expectedSignatureV2({ ...fields, mode: "test" }));
  });
});
