// What the dashboard's Integrations page reads beyond the resources themselves: the tenant's name,
// keys by status, audit actors by name, and "Verify" in the endpoint form.
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, deliverySetup, expectProblem, fieldError, newKey, newTenant, stubEndpoint, unique } from "./helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /v1/whoami", () => {
  it("names the tenant, not only its id", async () => {
    const { tenant, key } = await newTenant();
    const who = await call("GET", "/v1/whoami", { key });
    expect(who.status).toBe(200);
    expect(who.body.tenant).toEqual({ id: tenant.id, name: tenant.name });
    expect(who.body.tenantId).toBe(tenant.id);
  });
});

describe("GET /v1/keys?status=", () => {
  it("lists revoked keys only when asked, each with its status", async () => {
    const { key, keyId } = await newTenant();
    const gone = await newKey(key, { scopes: ["keys:read"] });
    expect((await call("DELETE", `/v1/keys/${gone.id}`, { key })).status).toBe(204);
    const live = await call("GET", "/v1/keys", { key });
    expect(live.body.data.map((k: { id: string }) => k.id)).toEqual([keyId]);
    expect(live.body.data[0].status).toBe("active");
    const revoked = await call("GET", "/v1/keys?status=revoked", { key });
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.map((k: { id: string; status: string }) => [k.id, k.status])).toEqual([[gone.id, "revoked"]]);
    const all = await call("GET", "/v1/keys?status=all", { key });
    expect(all.body.data.map((k: { id: string }) => k.id).sort()).toEqual([keyId, gone.id].sort());
  });

  it("never lists another tenant's revoked keys", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const gone = await newKey(a.key, { scopes: ["keys:read"] });
    await call("DELETE", `/v1/keys/${gone.id}`, { key: a.key });
    const seen = await call("GET", "/v1/keys?status=all", { key: b.key });
    expect(seen.body.data.map((k: { id: string }) => k.id)).toEqual([b.keyId]);
  });

  it("refuses an unknown status, naming the field and the valid ones", async () => {
    const { key } = await newTenant();
    const res = await call("GET", "/v1/keys?status=deleted", { key });
    expectProblem(res, 400, res.body.code);
    expect(res.text).toContain("status");
  });
});

describe("GET /v1/audit-log actorName", () => {
  it("names a key's actions by the key's name, the operator's as Operator", async () => {
    const { tenant, key, keyId } = await newTenant();
    const name = unique("writer");
    const writer = await newKey(key, { name, scopes: ["keys:write", "keys:read"] });
    await newKey(writer.key, { scopes: ["keys:read"] });
    expect((await call("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { name: unique("renamed") } })).status).toBe(200);
    const log = await call("GET", "/v1/audit-log", { key });
    expect(log.status).toBe(200);
    const byWriter = log.body.data.find((e: { actor: string }) => e.actor === writer.id);
    expect(byWriter).toMatchObject({ action: "key.created", actorName: name });
    const byAdminKey = log.body.data.find((e: { actor: string; action: string }) => e.actor === keyId && e.action === "key.created");
    expect(byAdminKey.actorName).toMatch(/./);
    const byOperator = log.body.data.find((e: { actor: string }) => e.actor === "operator");
    expect(byOperator?.actorName).toBe("Operator");
  });

  it("keeps naming a revoked key's past actions", async () => {
    const { key } = await newTenant();
    const name = unique("temp");
    const temp = await newKey(key, { name, scopes: ["keys:write", "keys:read"] });
    await newKey(temp.key, { scopes: ["keys:read"] });
    await call("DELETE", `/v1/keys/${temp.id}`, { key });
    const log = await call("GET", "/v1/audit-log", { key });
    expect(log.body.data.find((e: { actor: string }) => e.actor === temp.id).actorName).toBe(name);
  });
});

describe("POST /v1/webhooks/verify", () => {
  it("sends the signed verification with the form's format, header and field, and returns the answer", async () => {
    const { key } = await newTenant();
    const endpoint = await stubEndpoint(new Response("verified!", { status: 200 }));
    const res = await call("POST", "/v1/webhooks/verify", {
      key,
      body: {
        url: "https://hooks.example.com/verify",
        format: "form",
        headers: { "X-Team": "blue" },
        customFields: { plan: "pro" },
        secret: "my-own-secret-of-at-least-24-chars",
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ success: true, statusCode: 200, responseBody: "verified!" });
    expect(endpoint.calls).toHaveLength(1);
    const sent = endpoint.calls[0]!;
    expect(sent.url).toBe("https://hooks.example.com/verify");
    expect(sent.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(sent.headers.get("x-team")).toBe("blue");
    expect(sent.headers.get("x-webhook-event-type")).toBe("webhook.verification");
    expect(sent.headers.get("x-webhook-signature")).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const form = new URLSearchParams(sent.body);
    expect(form.get("type")).toBe("webhook.verification");
    expect(form.get("plan")).toBe("pro");
    // Nothing was stored.
    expect((await call("GET", "/v1/webhooks", { key })).body.data).toEqual([]);
  });

  it("returns a failing answer as it is (200, success false)", async () => {
    const { key } = await newTenant();
    await stubEndpoint(new Response("nope", { status: 500 }));
    const res = await call("POST", "/v1/webhooks/verify", { key, body: { url: "https://hooks.example.com/down" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, statusCode: 500, responseBody: "nope" });
  });

  it("signs for an existing endpoint with its secret and stored headers", async () => {
    const { key, webhookId, secret } = await deliverySetup({ webhook: { headers: { Authorization: "Bearer stored-token" } } });
    const endpoint = await stubEndpoint(new Response(null, { status: 204 }));
    const res = await call("POST", "/v1/webhooks/verify", { key, body: { url: "https://hooks.example.com/moved", webhookId } });
    expect(res.status, res.text).toBe(200);
    const sent = endpoint.calls[0]!;
    expect(sent.headers.get("authorization")).toBe("Bearer stored-token");
    const [t, v1] = sent.headers.get("x-webhook-signature")!.replace("t=", "").split(",v1=");
    const mac = await crypto.subtle.sign(
      "HMAC",
      await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      new TextEncoder().encode(`${t}.${sent.body}`),
    );
    expect(v1).toBe([...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  });

  it("refuses what a subscription would refuse: a private URL, a reserved header, another tenant's webhook", async () => {
    const { key } = await newTenant();
    const other = await deliverySetup();
    const endpoint = await stubEndpoint(new Response("ok"));
    expect(fieldError(await call("POST", "/v1/webhooks/verify", { key, body: { url: "https://10.0.0.1/x" } }), "url")).toBeDefined();
    const reserved = await call("POST", "/v1/webhooks/verify", {
      key,
      body: { url: "https://hooks.example.com/x", headers: { "Content-Type": "text/plain" } },
    });
    expect(reserved.status).toBe(422);
    expectProblem(
      await call("POST", "/v1/webhooks/verify", { key, body: { url: "https://hooks.example.com/x", webhookId: other.webhookId } }),
      404,
      "not_found",
    );
    expect(endpoint.calls).toHaveLength(0);
  });

  it("needs webhooks:write", async () => {
    const { key } = await newTenant();
    const reader = await newKey(key, { scopes: ["webhooks:read"] });
    const endpoint = await stubEndpoint(new Response("ok"));
    expectProblem(
      await call("POST", "/v1/webhooks/verify", { key: reader.key, body: { url: "https://hooks.example.com/x" } }),
      403,
      "insufficient_scope",
    );
    expectProblem(await call("POST", "/v1/webhooks/verify", { body: { url: "https://hooks.example.com/x" } }), 401, "unauthorized");
    expect(endpoint.calls).toHaveLength(0);
  });
});
