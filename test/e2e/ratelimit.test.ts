import { describe, expect, it } from "vitest";
import { api, baseUrl, createTenant } from "./client";

describe("rate limits and OAuth over real HTTP (wrangler dev)", () => {
  it("admits exactly 30 of 40 concurrent writes with one key, with the limit headers", async () => {
    const { key } = await createTenant();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api("PATCH", `/v1/keys/${key.id}`, { key: key.key, body: { name: `renamed ${i}` } })),
    );
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(30);
    expect(limited).toHaveLength(10);
    for (const r of limited) {
      expect(r.body).toMatchObject({ code: "rate_limited", policy: "write:30/1m" });
      expect(r.body.retryAfter).toBeGreaterThanOrEqual(1);
      expect(r.headers.get("retry-after")).toBe(String(r.body.retryAfter));
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    }
    for (const r of ok) {
      expect(r.headers.get("x-ratelimit-limit")).toBe("30");
      expect(r.headers.get("ratelimit-policy")).toBe('"write";q=30;w=60');
      expect(r.headers.get("ratelimit")).toMatch(/^"write";r=\d+;t=\d+$/);
    }
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 30 }, (_, i) => i));

    // The read bucket is separate: 60 per minute.
    const read = await api("GET", "/v1/keys", { key: key.key });
    expect(read.status).toBe(200);
    expect(read.headers.get("ratelimit-policy")).toBe('"read";q=60;w=60');
    expect(read.headers.get("x-ratelimit-remaining")).toBe("59");
  });

  it("issues an OAuth token that authenticates, and dies with its client", async () => {
    const { key } = await createTenant();
    const client = await api("POST", "/v1/oauth-clients", { key: key.key, body: { name: "erp", scopes: ["keys:read"] } });
    expect(client.status).toBe(201);
    const basic = Buffer.from(`${client.body.clientId}:${client.body.clientSecret}`).toString("base64");
    const tokenRes = await fetch(`${baseUrl()}/oauth/token`, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&scope=keys%3Aread",
    });
    expect(tokenRes.status).toBe(200);
    const token = await tokenRes.json();
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "keys:read" });

    const me = await api("GET", "/v1/whoami", { key: token.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ credentialId: client.body.id, credentialType: "oauth_client", scopes: ["keys:read"] });

    expect((await api("DELETE", `/v1/oauth-clients/${client.body.id}`, { key: key.key })).status).toBe(204);
    const after = await api("GET", "/v1/keys", { key: token.access_token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("credential_revoked");
  });
});
