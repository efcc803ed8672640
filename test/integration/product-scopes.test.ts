import { afterEach, describe, expect, it, vi } from "vitest";
import { callUrl, putGateway, putScopes, stubOrigin } from "./gateway-kit";
import { BASE, basic, call, expectProblem, fieldError, newClient, newKey, newTenant, tokenFor, tokenRequest } from "./helpers";

afterEach(() => vi.restoreAllMocks());

describe("PUT/GET /admin/scopes", () => {
  it("replaces the whole list and returns it in order; GET shows the same", async () => {
    const put = await putScopes([{ name: "tests:read", description: "Read tests" }, { name: "tests:write" }]);
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      data: [
        { name: "tests:read", description: "Read tests", owner: "operator" },
        { name: "tests:write", description: null, owner: "operator" },
      ],
      nextCursor: null,
    });
    expect((await call("GET", "/admin/scopes", { admin: true })).body).toEqual(put.body);
    expect((await putScopes([{ name: "contacts:read" }])).body.data.map((s: { name: string }) => s.name)).toEqual(["contacts:read"]);
  });

  it("refuses Hookgate's own names (422 reserved_scope), bad names, duplicates and more than 200", async () => {
    expectProblem(await putScopes([{ name: "keys:read" }]), 422, "reserved_scope");
    expectProblem(await putScopes([{ name: "api:write" }]), 422, "reserved_scope");
    for (const name of ["Tests:read", "tests", "tests:", ":read", "tests read", "tests:read:x", "1tests:read"]) {
      const res = await putScopes([{ name }]);
      expectProblem(res, 422, "validation_failed");
      fieldError(res, "scopes.0.name");
    }
    expectProblem(await putScopes([{ name: "a:b" }, { name: "a:b" }]), 422, "validation_failed");
    const many = Array.from({ length: 201 }, (_, i) => ({ name: `r${i}:read` }));
    expectProblem(await putScopes(many), 422, "validation_failed");
    expect((await putScopes(many.slice(0, 200))).status).toBe(200);
  });

  it("needs the operator token", async () => {
    const { key } = await newTenant();
    expectProblem(await call("PUT", "/admin/scopes", { body: { scopes: [] } }), 401, "unauthorized");
    expectProblem(await call("GET", "/admin/scopes", { key }), 401, "invalid_credential");
  });

  it("is audited as scopes.updated in the operator's log, with what was added and removed", async () => {
    await putScopes([{ name: "x:read" }]);
    await putScopes([{ name: "y:read" }]);
    const log = await call("GET", "/admin/audit-log?action=scopes.updated", { admin: true });
    expect(log.status).toBe(200);
    expect(log.body.data[0]).toMatchObject({
      actor: "operator",
      action: "scopes.updated",
      details: { added: ["y:read"], removed: ["x:read"] },
    });
  });
});

describe("GET /v1/scopes", () => {
  it("lists Hookgate's scopes and the product's, for any credential", async () => {
    await putScopes([{ name: "tests:read", description: "Read tests" }]);
    const { key } = await newTenant();
    const weak = await newKey(key, { scopes: ["audit:read"] });
    const res = await call("GET", "/v1/scopes", { key: weak.key });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const byName = Object.fromEntries(res.body.data.map((s: { name: string; owner: string }) => [s.name, s]));
    expect(byName["keys:read"].owner).toBe("hookgate");
    expect(byName["api:write"].owner).toBe("hookgate");
    expect(byName["tests:read"]).toEqual({ name: "tests:read", description: "Read tests", owner: "operator" });
    expectProblem(await call("GET", "/v1/scopes"), 401, "unauthorized");
  });
});

describe("product scopes on credentials", () => {
  it("keys and OAuth clients may be granted listed scopes; an unknown one is a 422 listing the valid ones", async () => {
    await putScopes([{ name: "tests:read" }, { name: "tests:write" }]);
    const { key } = await newTenant();
    const granted = await call("POST", "/v1/keys", { key, body: { name: "ci", scopes: ["tests:read", "keys:read"] } });
    expect(granted.status).toBe(201);
    expect(granted.body.scopes).toEqual(["tests:read", "keys:read"]);
    const unknown = await call("POST", "/v1/keys", { key, body: { name: "ci", scopes: ["tests:delete"] } });
    expectProblem(unknown, 422, "validation_failed");
    expect(fieldError(unknown, "scopes.0").allowed).toEqual(expect.arrayContaining(["tests:read", "tests:write", "keys:read", "api:read"]));
    expect((await call("POST", "/v1/oauth-clients", { key, body: { name: "c", scopes: ["tests:write"] } })).status).toBe(201);
    expectProblem(await call("POST", "/v1/oauth-clients", { key, body: { name: "c", scopes: ["nope:read"] } }), 422, "validation_failed");
  });

  it("api:read/api:write cover the product's scopes; a narrower key cannot grant more than it holds", async () => {
    await putScopes([{ name: "tests:read" }, { name: "tests:write" }]);
    await putGateway({
      routes: [
        { path: "/tests/*", method: "GET", scope: "tests:read" },
        { path: "/tests/*", method: "POST", scope: "tests:write" },
      ],
    });
    const { key } = await newTenant();
    const reader = await newKey(key, { scopes: ["api:read", "keys:write"] });
    stubOrigin();
    expect((await callUrl("GET", `${BASE}/tests/1`, { key: reader.key })).status).toBe(200);
    const write = await callUrl("POST", `${BASE}/tests/1`, { key: reader.key });
    expectProblem(write, 403, "insufficient_scope");
    expect(write.body.requiredScope).toBe("tests:write");
    expect((await call("POST", "/v1/keys", { key: reader.key, body: { name: "n", scopes: ["tests:read"] } })).status).toBe(201);
    expectProblem(
      await call("POST", "/v1/keys", { key: reader.key, body: { name: "n", scopes: ["tests:write"] } }),
      403,
      "scope_escalation",
    );
  });

  it("a removed scope stops granting access at once and can no longer be granted", async () => {
    await putScopes([{ name: "tests:read" }, { name: "reports:read" }]);
    await putGateway({ routes: [{ path: "/tests/*", scope: "tests:read" }] });
    const { key } = await newTenant();
    const holder = await newKey(key, { scopes: ["tests:read"] });
    const wildcard = await newKey(key, { scopes: ["api:read"] });
    const origin = stubOrigin();
    expect((await callUrl("GET", `${BASE}/tests/1`, { key: holder.key })).status).toBe(200);
    expect((await callUrl("GET", `${BASE}/tests/1`, { key: wildcard.key })).status).toBe(200);

    await putScopes([{ name: "reports:read" }]);
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: holder.key }), 403, "insufficient_scope");
    expectProblem(await callUrl("GET", `${BASE}/tests/1`, { key: wildcard.key }), 403, "insufficient_scope");
    expect(origin.calls).toHaveLength(2);
    expectProblem(await call("POST", "/v1/keys", { key, body: { name: "n", scopes: ["tests:read"] } }), 422, "validation_failed");
  });

  it("an OAuth token may ask for a product scope its client holds", async () => {
    await putScopes([{ name: "tests:read" }, { name: "tests:write" }]);
    const { key } = await newTenant();
    const client = await newClient(key, { scopes: ["tests:read", "keys:read"] });
    const token = await tokenFor(client, "tests:read");
    expect(token).toBeTruthy();
    const refused = await tokenRequest(
      { grant_type: "client_credentials", scope: "tests:write" },
      { headers: { authorization: basic(client.clientId, client.clientSecret) } },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_scope");
  });
});

describe("granting api:read / api:write needs that very wildcard", () => {
  const EACH_READ = ["keys:read", "webhooks:read", "events:read", "sources:read", "audit:read", "tests:read"];

  it("a key holding every :read scope but not api:read cannot create a key, client or portal link with it", async () => {
    await putScopes([{ name: "tests:read" }, { name: "tests:write" }]);
    const { key } = await newTenant();
    const eachRead = await newKey(key, { scopes: [...EACH_READ, "keys:write"] });
    const escalation = await call("POST", "/v1/keys", { key: eachRead.key, body: { name: "n", scopes: ["api:read"] } });
    expectProblem(escalation, 403, "scope_escalation");
    expect(escalation.body.requiredScope).toBe("api:read");
    expectProblem(
      await call("POST", "/v1/oauth-clients", { key: eachRead.key, body: { name: "c", scopes: ["api:read"] } }),
      403,
      "scope_escalation",
    );
    expectProblem(
      await call("POST", "/v1/portal-sessions", { key: eachRead.key, body: { scopes: ["api:read"] } }),
      403,
      "scope_escalation",
    );
    // Its members it may hand on.
    expect((await call("POST", "/v1/keys", { key: eachRead.key, body: { name: "n", scopes: EACH_READ } })).status).toBe(201);
  });

  it("a key holding api:read (the tenant's first key too) may grant it; api:read does not grant api:write", async () => {
    await putScopes([{ name: "tests:read" }]);
    const { key } = await newTenant();
    const reader = await newKey(key, { scopes: ["api:read", "keys:write"] });
    expect((await call("POST", "/v1/keys", { key: reader.key, body: { name: "n", scopes: ["api:read"] } })).status).toBe(201);
    expect((await call("POST", "/v1/portal-sessions", { key: reader.key, body: { scopes: ["api:read"] } })).status).toBe(201);
    expectProblem(await call("POST", "/v1/keys", { key: reader.key, body: { name: "n", scopes: ["api:write"] } }), 403, "scope_escalation");
  });

  it("an OAuth token may ask for api:read only when its client holds api:read", async () => {
    await putScopes([{ name: "tests:read" }]);
    const { key } = await newTenant();
    const eachRead = await newClient(key, { scopes: EACH_READ });
    const wildcard = await newClient(key, { scopes: ["api:read"] });
    const refused = await tokenRequest(
      { grant_type: "client_credentials", scope: "api:read" },
      { headers: { authorization: basic(eachRead.clientId, eachRead.clientSecret) } },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_scope");
    const token = await tokenRequest(
      { grant_type: "client_credentials", scope: "api:read" },
      { headers: { authorization: basic(wildcard.clientId, wildcard.clientSecret) } },
    );
    expect(token.status).toBe(200);
    expect(token.body.scope).toBe("api:read");
    expect((await call("GET", "/v1/scopes", { key: token.body.access_token })).status).toBe(200);
  });
});

describe("a removed product scope is no longer announced", () => {
  it("the origin's X-Hookgate-Scopes and verify's scopes leave it out, a wildcard's cover follows the live list", async () => {
    await putScopes([{ name: "tests:read" }, { name: "reports:read" }]);
    await putGateway({ routes: [{ path: "/reports/*", scope: "reports:read" }] });
    const { key } = await newTenant();
    const holder = await newKey(key, { scopes: ["tests:read", "reports:read"] });
    const wildcard = await newKey(key, { scopes: ["api:read"] });
    await putScopes([{ name: "reports:read" }]);
    const origin = stubOrigin();
    expect((await callUrl("GET", `${BASE}/reports/1`, { key: holder.key })).status).toBe(200);
    expect((await callUrl("GET", `${BASE}/reports/1`, { key: wildcard.key })).status).toBe(200);
    expect(origin.calls[0]!.headers.get("x-hookgate-scopes")).toBe("reports:read");
    const covered = origin.calls[1]!.headers.get("x-hookgate-scopes")!.split(" ");
    expect(covered).toEqual(expect.arrayContaining(["api:read", "reports:read", "keys:read"]));
    expect(covered).not.toContain("tests:read");
    const verified = await call("POST", "/admin/verify", { admin: true, body: { credential: holder.key } });
    expect(verified.body).toMatchObject({ valid: true, scopes: ["reports:read"] });
  });
});
