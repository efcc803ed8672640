import { describe, expect, it } from "vitest";
import { api, baseUrl, createTenant } from "./client";

describe("keys over real HTTP (wrangler dev)", () => {
  it("serves health, OpenAPI and request ids", async () => {
    const health = await fetch(`${baseUrl()}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, version: expect.any(String) });
    expect(health.headers.get("x-request-id")).toMatch(/^req_/);

    const doc = await api("GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/admin/tenants", "/v1/keys", "/v1/keys/{id}/rotate"]));
  });

  it("creates a tenant, uses its key, creates, rotates and revokes keys", async () => {
    const { tenant, key } = await createTenant();
    expect(key.key.startsWith(`hg_live_${tenant.id.slice(4)}_`)).toBe(true);

    const list = await api("GET", "/v1/keys", { key: key.key });
    expect(list.status).toBe(200);
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([key.id]);
    expect(JSON.stringify(list.body)).not.toContain(key.key);

    // X-Api-Key works as well as Bearer.
    const viaHeader = await fetch(`${baseUrl()}/v1/keys/${key.id}`, { headers: { "X-Api-Key": key.key } });
    expect(viaHeader.status).toBe(200);

    const reader = await api("POST", "/v1/keys", { key: key.key, body: { name: "reader", scopes: ["keys:read"] } });
    expect(reader.status).toBe(201);
    const denied = await api("POST", "/v1/keys", { key: reader.body.key, body: { name: "x", scopes: ["keys:read"] } });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ code: "insufficient_scope", requiredScope: "keys:write" });
    expect(denied.headers.get("content-type")).toContain("application/problem+json");

    const rotated = await api("POST", `/v1/keys/${reader.body.id}/rotate`, { key: key.key, body: { graceSeconds: 0 } });
    expect(rotated.status).toBe(201);
    expect((await api("GET", "/v1/keys", { key: reader.body.key })).status).toBe(401);
    expect((await api("GET", "/v1/keys", { key: rotated.body.key })).status).toBe(200);

    const revoke = await api("DELETE", `/v1/keys/${rotated.body.id}`, { key: key.key });
    expect(revoke.status).toBe(204);
    const after = await api("GET", "/v1/keys", { key: rotated.body.key });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("credential_revoked");
    expect(after.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("refuses a checksum typo and an oversized body", async () => {
    const { key } = await createTenant();
    const last = key.key.at(-1) === "A" ? "B" : "A";
    const typo = await api("GET", "/v1/keys", { key: key.key.slice(0, -1) + last });
    expect(typo.status).toBe(401);
    expect(typo.body.code).toBe("invalid_credential");

    const big = await fetch(`${baseUrl()}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(300 * 1024), scopes: ["keys:read"] }),
    });
    expect(big.status).toBe(413);
  });
});
