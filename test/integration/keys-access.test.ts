import { describe, expect, it } from "vitest";
import { allPages, call, expectProblem, newKey, newTenant } from "./helpers";

describe("scope escalation", () => {
  it("a keys:read+keys:write key cannot mint webhooks:read → 403 scope_escalation", async () => {
    const { key: admin } = await newTenant();
    const limited = await newKey(admin, { scopes: ["keys:read", "keys:write"] });
    const res = await call("POST", "/v1/keys", { key: limited.key, body: { name: "esc", scopes: ["keys:read", "webhooks:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("webhooks:read");
    expect(res.body.detail).toContain("webhooks:read");
    for (const scopes of [["api:read"], ["api:write"], ["audit:read"], ["keys:write", "sources:write"]]) {
      expectProblem(await call("POST", "/v1/keys", { key: limited.key, body: { name: "esc", scopes } }), 403, "scope_escalation");
    }
    const list = await call("GET", "/v1/keys", { key: admin });
    expect(list.body.data).toHaveLength(2);
  });

  it("a keys:write-only key cannot mint keys:read, but can mint keys:write", async () => {
    const { key: admin } = await newTenant();
    const writer = await newKey(admin, { scopes: ["keys:write"] });
    const res = await call("POST", "/v1/keys", { key: writer.key, body: { name: "r", scopes: ["keys:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("keys:read");
    const ok = await call("POST", "/v1/keys", { key: writer.key, body: { name: "w", scopes: ["keys:write"] } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.scopes).toEqual(["keys:write"]);
  });

  it("api:read/api:write keys can mint any subset, wildcards included", async () => {
    const { key: admin } = await newTenant();
    for (const scopes of [["api:read"], ["api:write"], ["api:read", "api:write"], ["webhooks:write", "audit:read"], ["sources:read"]]) {
      const res = await call("POST", "/v1/keys", { key: admin, body: { name: "sub", scopes } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.scopes.sort()).toEqual([...scopes].sort());
    }
  });

  it("an api:write + keys:read key can mint write scopes but not other read scopes", async () => {
    const { key: admin } = await newTenant();
    const k = await newKey(admin, { scopes: ["api:write", "keys:read"] });
    expect((await call("POST", "/v1/keys", { key: k.key, body: { name: "a", scopes: ["webhooks:write", "keys:read"] } })).status).toBe(201);
    const res = await call("POST", "/v1/keys", { key: k.key, body: { name: "b", scopes: ["audit:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("audit:read");
  });

  it("a key holding every read scope individually may not mint api:read (it also covers scopes added later)", async () => {
    const { key: admin } = await newTenant();
    const all = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read", "keys:write"];
    const k = await newKey(admin, { scopes: all });
    const res = await call("POST", "/v1/keys", { key: k.key, body: { name: "w", scopes: ["api:read"] } });
    expectProblem(res, 403, "scope_escalation");
    expect(res.body.requiredScope).toBe("api:read");
  });
});

describe("tenant isolation", () => {
  it("another tenant's key id → 404 on GET/PATCH/DELETE/rotate, and the key is untouched", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const victim = await newKey(a.key, { scopes: ["keys:read"], ipAllowlist: ["10.0.0.0/8"] });
    for (const [method, path, body] of [
      ["GET", `/v1/keys/${victim.id}`, undefined],
      ["PATCH", `/v1/keys/${victim.id}`, { name: "pwned", ipAllowlist: null }],
      ["DELETE", `/v1/keys/${victim.id}`, undefined],
      ["POST", `/v1/keys/${victim.id}/rotate`, { graceSeconds: 0 }],
      ["GET", `/v1/keys/${a.keyId}`, undefined],
      ["DELETE", `/v1/keys/${a.keyId}`, undefined],
      ["POST", `/v1/keys/${a.keyId}/rotate`, { graceSeconds: 0 }],
    ] as const) {
      const res = await call(method, path, { key: b.key, ...(body ? { body } : {}) });
      expectProblem(res, 404, "not_found");
      expect(res.text).not.toContain(victim.body.name);
    }
    const got = await call("GET", `/v1/keys/${victim.id}`, { key: a.key });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ name: victim.body.name, ipAllowlist: ["10.0.0.0/8"], revokedAt: null });
    expect((await call("GET", "/v1/keys", { key: victim.key, ip: "10.1.2.3" })).status).toBe(200);
    expect((await call("GET", "/v1/keys", { key: a.key })).status).toBe(200);
    // B's list holds only B's key.
    const listB = await call("GET", "/v1/keys", { key: b.key });
    expect(listB.body.data.map((k: { id: string }) => k.id)).toEqual([b.keyId]);
    const { items } = await allPages("/v1/keys", { key: a.key });
    expect(items.map((k: { id: string }) => k.id).sort()).toEqual([a.keyId, victim.id].sort());
  });
});
