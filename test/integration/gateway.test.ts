import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { callUrl, expectedSignature, expectedSignatureV2, ORIGIN, parseSignature, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, expectProblem, newClient, newKey, newTenant, tokenFor } from "./helpers";

beforeEach(async () => {
  expect((await putScopes([{ name: "tests:read" }, { name: "tests:write" }, { name: "reports:read" }])).status).toBe(200);
});
afterEach(() => vi.restoreAllMocks());

describe("gateway: a request to the operator's API", () => {
  it("is proxied with the same method, path and query, the credential removed and the signed identity added", async () => {
    expect((await putGateway({ routes: [{ path: "/tests/*", scope: "tests:read" }] })).status).toBe(200);
    const { key, tenant } = await newTenant();
    const reader = await newKey(key, { scopes: ["tests:read"] });
    const origin = stubOrigin(
      () =>
        new Response(JSON.stringify({ tests: [1, 2] }), {
          status: 207,
          headers: { "content-type": "application/json", "x-origin": "yes" },
        }),
    );
    const res = await callUrl("GET", `${BASE}/tests/42?page=2&q=a%20b`, {
      key: reader.key,
      headers: {
        "x-request-id": "trace-gw-1",
        "x-custom": "kept",
        "x-hookgate-tenant-id": "ten_spoofed",
        "X-Hookgate-Signature": "t=1,v1=00",
      },
    });
    expect(res.status).toBe(207);
    expect(res.body).toEqual({ tests: [1, 2] });
    expect(res.headers.get("x-origin")).toBe("yes");
    expect(res.headers.get("x-request-id")).toBe("trace-gw-1");
    expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    expect(res.headers.get("ratelimit-policy")).toBe('"read";q=60;w=60');

    expect(origin.calls).toHaveLength(1);
    const sent = origin.calls[0]!;
    expect(sent.url).toBe(`${ORIGIN}/tests/42?page=2&q=a%20b`);
    expect(sent.method).toBe("GET");
    expect(sent.headers.get("authorization")).toBeNull();
    expect(sent.headers.get("x-custom")).toBe("kept");
    expect(sent.headers.get("x-hookgate-tenant-id")).toBe(tenant.id);
    expect(sent.headers.get("x-hookgate-credential-id")).toBe(reader.id);
    expect(sent.headers.get("x-hookgate-scopes")).toBe("tests:read");
    expect(sent.headers.get("x-hookgate-request-id")).toBe("trace-gw-1");
    const { t, v1, v2 } = parseSignature(sent.headers.get("x-hookgate-signature"));
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(5);
    expect(v1).toBe(await expectedSignature(t, "GET", "/tests/42?page=2&q=a%20b", tenant.id, reader.id, "trace-gw-1"));
    expect(sent.headers.get("x-hookgate-mode")).toBe("live");
    expect(v2).toBe(
      await expectedSignatureV2({
        t,
        method: "GET",
        target: "/tests/42?page=2&q=a%20b",
        tenantId: tenant.id,
        credentialId: reader.id,
        requestId: "trace-gw-1",
        scopes: "tests:read",
        mode: "live",
      }),
    );
  });

  it("drops X-Api-Key and every inbound X-Hookgate-* header; the path alone is signed when there is no query", async () => {
    await putGateway({ routes: [{ path: "/reports", method: "POST" }] });
    const { key, tenant, keyId } = await newTenant();
    const origin = stubOrigin();
    const res = await callUrl("POST", `${BASE}/reports`, {
      headers: { "x-api-key": key, "x-hookgate-anything": "spoof", "content-type": "text/csv" },
      body: "a,b\n1,2\n",
    });
    expect(res.status).toBe(200);
    const sent = origin.calls[0]!;
    expect(sent.headers.get("x-api-key")).toBeNull();
    expect(sent.headers.get("x-hookgate-anything")).toBeNull();
    expect(sent.headers.get("content-type")).toBe("text/csv");
    expect(new TextDecoder().decode(sent.body!)).toBe("a,b\n1,2\n");
    // The tenant's first key holds api:read api:write: its scopes are sent expanded, the product's included.
    expect(sent.headers.get("x-hookgate-scopes")!.split(" ")).toEqual(
      expect.arrayContaining(["api:read", "api:write", "tests:read", "tests:write", "keys:read"]),
    );
    const requestId = res.headers.get("x-request-id")!;
    const { t, v1, v2 } = parseSignature(sent.headers.get("x-hookgate-signature"));
    expect(v1).toBe(await expectedSignature(t, "POST", "/reports", tenant.id, keyId, requestId));
    const scopes = sent.headers.get("x-hookgate-scopes")!;
    const fields = { t, method: "POST", target: "/reports", tenantId: tenant.id, credentialId: keyId, requestId, scopes, mode: "live" };
    expect(v2).toBe(await expectedSignatureV2(fields));
    expect(sent.headers.get("x-hookgate-request-id")).toBe(requestId);
  });

  it("streams bodies over 256 KiB both ways (the API's body limit does not apply)", async () => {
    await putGateway({ routes: [{ path: "/uploads/*", method: "PUT" }] });
    const { key } = await newTenant();
    const big = new Uint8Array(300 * 1024).map((_, i) => i % 251);
    const answer = new Uint8Array(1024 * 1024).map((_, i) => i % 253);
    const origin = stubOrigin(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < answer.length; i += 64 * 1024) controller.enqueue(answer.slice(i, i + 64 * 1024));
              controller.close();
            },
          }),
          { status: 201 },
        ),
    );
    const res = await (await import("cloudflare:workers")).exports.default.fetch(
      new Request(`${BASE}/uploads/blob`, {
        method: "PUT",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
        body: big,
      }),
    );
    expect(res.status).toBe(201);
    const got = new Uint8Array(await res.arrayBuffer());
    expect(got.length).toBe(answer.length);
    expect(got.every((b, i) => b === answer[i])).toBe(true);
    expect(origin.calls[0]!.body!.length).toBe(big.length);
    expect(origin.calls[0]!.body!.every((b, i) => b === big[i])).toBe(true);
  });

  it("works with an OAuth access token", async () => {
    await putGateway({ routes: [{ path: "/tests/*", scope: "tests:read" }] });
    const { key, tenant } = await newTenant();
    const client = await newClient(key, { scopes: ["tests:read"] });
    const token = await tokenFor(client);
    const origin = stubOrigin();
    const res = await callUrl("GET", `${BASE}/tests`, { key: token });
    expect(res.status).toBe(200);
    expect(origin.calls[0]!.headers.get("x-hookgate-credential-id")).toBe(client.id);
    expect(origin.calls[0]!.headers.get("x-hookgate-tenant-id")).toBe(tenant.id);
    expect(origin.calls[0]!.headers.get("authorization")).toBeNull();
  });

  it("drops hop-by-hop headers of the answer and passes the rest (redirects are not followed)", async () => {
    await putGateway({ routes: [{ path: "/go" }] });
    const { key } = await newTenant();
    stubOrigin(
      () =>
        new Response(null, {
          status: 302,
          headers: { location: "https://elsewhere.example/", "keep-alive": "timeout=5", "set-cookie": "a=1" },
        }),
    );
    const res = await callUrl("GET", `${BASE}/go`, { key });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.example/");
    expect(res.headers.get("keep-alive")).toBeNull();
    expect(res.headers.get("set-cookie")).toBe("a=1");
  });
});

describe("gateway: a route that needs api:read or api:write", () => {
  // Every individual :read scope there is today, the product's included, but not the wildcard.
  const EACH_READ = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read", "tests:read", "reports:read"];

  it("admits a credential holding that very wildcard, the tenant's first key included", async () => {
    expect(
      (
        await putGateway({
          routes: [
            { path: "/tests/*", method: "GET", scope: "api:read" },
            { path: "/tests/*", method: "POST", scope: "api:write" },
          ],
        })
      ).status,
    ).toBe(200);
    const { key, keyId } = await newTenant();
    const reader = await newKey(key, { scopes: ["api:read"] });
    const writer = await newClient(key, { scopes: ["api:write"] });
    const origin = stubOrigin();
    expect((await callUrl("GET", `${BASE}/tests/1`, { key })).status).toBe(200);
    expect((await callUrl("GET", `${BASE}/tests/1`, { key: reader.key })).status).toBe(200);
    expect((await callUrl("POST", `${BASE}/tests/1`, { key })).status).toBe(200);
    expect((await callUrl("POST", `${BASE}/tests/1`, { key: await tokenFor(writer) })).status).toBe(200);
    expect(origin.calls.map((c) => c.headers.get("x-hookgate-credential-id"))).toEqual([keyId, reader.id, keyId, writer.id]);
    expect(origin.calls[1]!.headers.get("x-hookgate-scopes")!.split(" ")).toEqual(
      expect.arrayContaining(["api:read", "tests:read", "keys:read"]),
    );
  });

  it("refuses one holding each member of the wildcard but not the wildcard itself, or the other wildcard", async () => {
    await putGateway({
      routes: [
        { path: "/tests/*", method: "GET", scope: "api:read" },
        { path: "/tests/*", method: "POST", scope: "api:write" },
      ],
    });
    const { key } = await newTenant();
    const eachRead = await newKey(key, { scopes: EACH_READ });
    const reader = await newKey(key, { scopes: ["api:read"] });
    const origin = stubOrigin();
    const refused = await callUrl("GET", `${BASE}/tests/1`, { key: eachRead.key });
    expectProblem(refused, 403, "insufficient_scope");
    expect(refused.body.requiredScope).toBe("api:read");
    const write = await callUrl("POST", `${BASE}/tests/1`, { key: reader.key });
    expectProblem(write, 403, "insufficient_scope");
    expect(write.body.requiredScope).toBe("api:write");
    expect(origin.calls).toHaveLength(0);
  });
});
