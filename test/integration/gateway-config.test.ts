import { describe, expect, it } from "vitest";
import { ORIGIN, putGateway, putScopes } from "./gateway-kit";
import { call, callWithEnv, expectProblem, fieldError, newTenant } from "./helpers";

describe("PUT/GET /admin/gateway", () => {
  it("GET before any PUT → 404; PUT stores the configuration with defaults filled in", async () => {
    expectProblem(await call("GET", "/admin/gateway", { admin: true }), 404, "not_found");
    await putScopes([{ name: "tests:read" }]);
    const put = await putGateway({
      origin: `${ORIGIN}/base/`,
      hosts: ["API.Example.com"],
      routes: [
        { path: "/tests/*", scope: "tests:read" },
        { method: "POST", path: "/reports", cost: 5 },
      ],
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({
      origin: `${ORIGIN}/base`,
      hosts: ["api.example.com"],
      routes: [
        { method: "*", path: "/tests/*", scope: "tests:read", cost: 1 },
        { method: "POST", path: "/reports", scope: null, cost: 5 },
      ],
    });
    const got = await call("GET", "/admin/gateway", { admin: true });
    expect(got.body).toEqual(put.body);
  });

  it("refuses a bad origin, an unknown scope, duplicates and malformed routes (422), keeping what was stored", async () => {
    await putScopes([{ name: "tests:read" }]);
    expect((await putGateway({ routes: [{ path: "/a" }] })).status).toBe(200);
    const cases: [string, Record<string, unknown>, string][] = [
      ["http origin", { origin: "http://api.example.com", routes: [] }, "origin"],
      ["internal origin", { origin: "https://10.0.0.1", routes: [] }, "origin"],
      ["origin with a query", { origin: "https://api.example.com/?x=1", routes: [] }, "origin"],
      ["credentials in the origin", { origin: "https://u:p@api.example.com", routes: [] }, "origin"],
      ["unknown scope", { routes: [{ path: "/a", scope: "tests:write" }] }, "routes.0.scope"],
      ["duplicate route", { routes: [{ path: "/a" }, { path: "/a", method: "*" }] }, "routes.1"],
      ["path without /", { routes: [{ path: "a" }] }, "routes.0.path"],
      ["star inside the path", { routes: [{ path: "/a/*/b" }] }, "routes.0.path"],
      ["unknown method", { routes: [{ path: "/a", method: "BREW" }] }, "routes.0.method"],
      ["cost 0", { routes: [{ path: "/a", cost: 0 }] }, "routes.0.cost"],
      ["bad host", { hosts: ["not a host"], routes: [] }, "hosts.0"],
    ];
    for (const [label, body, path] of cases) {
      const res = await putGateway(body);
      expect(res.status, label).toBe(422);
      fieldError(res, path);
    }
    const unknownScope = await putGateway({ routes: [{ path: "/a", scope: "tests:write" }] });
    expect(fieldError(unknownScope, "routes.0.scope").allowed).toEqual(expect.arrayContaining(["tests:read", "keys:read"]));
    expect((await call("GET", "/admin/gateway", { admin: true })).body.routes).toEqual([{ method: "*", path: "/a", scope: null, cost: 1 }]);
  });

  it("admits http and loopback origins only where ALLOW_INSECURE_URLS is set", async () => {
    const body = { origin: "http://127.0.0.1:9999", routes: [] };
    expect((await callWithEnv({ ALLOW_INSECURE_URLS: "true" }, "PUT", "/admin/gateway", { admin: true, body })).status).toBe(200);
    expect((await callWithEnv({ ALLOW_INSECURE_URLS: "false" }, "PUT", "/admin/gateway", { admin: true, body })).status).toBe(422);
  });

  it("needs the operator token; is audited as gateway.updated", async () => {
    const { key } = await newTenant();
    expectProblem(await call("PUT", "/admin/gateway", { key, body: { origin: ORIGIN, routes: [] } }), 401, "invalid_credential");
    expectProblem(await call("GET", "/admin/gateway"), 401, "unauthorized");
    await putGateway({ routes: [] });
    const log = await call("GET", "/admin/audit-log?action=gateway.updated", { admin: true });
    expect(log.body.data[0]).toMatchObject({ actor: "operator", action: "gateway.updated", target: "gateway" });
  });
});
