import { beforeAll, describe, expect, it } from "vitest";
import { call, newKey, newRoomyTenant, sleep } from "./helpers";
import { DEEP_JSON, expectClientProblem, fill, hasBody, MADE_UP_IDS, type Operation, operations, send, snapshot } from "./security-kit";

/**
 * Every route of the document refuses a caller without the right credential
 * with a 401 (or 403 for a missing scope) problem, before it reads the body:
 * whatever the body is, nothing is stored.
 */

const HOSTILE_BODIES: [string, string][] = [
  ["deep JSON", DEEP_JSON],
  ["malformed JSON", '{"name": "x",,'],
  ["a huge body", `{"name":"${"x".repeat(300 * 1024)}"}`],
  ["not JSON at all", "<xml>nope</xml>"],
];

/** The routes any valid credential may call (no scope needed). */
const NO_SCOPE = new Set(["GET /v1/whoami", "GET /v1/scopes"]);
/** Routes any credential may call that then judge the credential's kind themselves (dashboard sign-in and out, portal links). */
const ANY_CREDENTIAL = new Set([
  "POST /v1/dashboard-sessions",
  "DELETE /v1/dashboard-sessions/current",
  "POST /v1/dashboard-sessions/current/mode",
  "POST /v1/portal-sessions",
]);

let ops: Operation[];
let tenantOps: Operation[];
let adminOps: Operation[];
let creds: { revoked: string; expired: string; wrongScope: string; tenantKey: string };

beforeAll(async () => {
  ops = await operations();
  tenantOps = ops.filter((o) => !o.admin);
  adminOps = ops.filter((o) => o.admin);
  // A product scope: a credential holding only it holds none of Hookgate's own.
  const scopes = await call("PUT", "/admin/scopes", { admin: true, body: { scopes: [{ name: "reports:read" }] } });
  expect(scopes.status, scopes.text).toBe(200);
  const { key } = await newRoomyTenant();
  const revoked = await newKey(key, { scopes: ["api:read", "api:write"] });
  expect((await call("DELETE", `/v1/keys/${revoked.id}`, { key })).status).toBe(204);
  const expired = await newKey(key, { scopes: ["api:read", "api:write"], expiresAt: new Date(Date.now() + 1000).toISOString() });
  const wrongScope = await newKey(key, { scopes: ["reports:read"] });
  await sleep(1100);
  creds = { revoked: revoked.key, expired: expired.key, wrongScope: wrongScope.key, tenantKey: key };
});

// Every route, several requests each: longer than one ordinary test on a busy machine.
describe("security: authentication on every route", { timeout: 30_000 }, () => {
  it("the document lists tenant and operator routes", () => {
    expect(tenantOps.length).toBeGreaterThan(25);
    expect(adminOps.length).toBeGreaterThan(15);
  });

  it("tenant routes: no credential → 401 unauthorized, whatever the body; nothing stored", async () => {
    const before = await snapshot();
    for (const op of tenantOps) {
      const path = fill(op.template, MADE_UP_IDS);
      for (const [what, body] of hasBody(op) ? HOSTILE_BODIES : [["no body", undefined] as const]) {
        const res = await send(op, path, { ...(body !== undefined && { json: body }) });
        expectClientProblem(res, `${op.label} anonymous, ${what}`, 401, "unauthorized");
        expect(res.headers.get("www-authenticate"), op.label).toMatch(/^Bearer /);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("tenant routes: a malformed, a made-up, a revoked and an expired credential → 401 naming which", async () => {
    const before = await snapshot();
    const cases: [string, { key?: string; headers?: Record<string, string> }, string][] = [
      ["malformed", { key: "hg_live_nope" }, "invalid_credential"],
      ["not bearer", { headers: { authorization: `Basic ${btoa("a:b")}` } }, "invalid_credential"],
      ["a forged JWT", { key: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }, "invalid_credential"],
      ["revoked", { key: creds.revoked }, "credential_revoked"],
      ["expired", { key: creds.expired }, "credential_expired"],
    ];
    for (const op of tenantOps) {
      const path = fill(op.template, MADE_UP_IDS);
      for (const [what, opts, code] of cases) {
        const res = await send(op, path, { ...opts, ...(hasBody(op) && { json: DEEP_JSON }) });
        expectClientProblem(res, `${op.label} ${what}`, 401, code);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("tenant routes: a credential without the scope → 403 insufficient_scope naming it, before the body is read", async () => {
    const before = await snapshot();
    for (const op of tenantOps) {
      const path = fill(op.template, MADE_UP_IDS);
      const res = await send(op, path, { key: creds.wrongScope, ...(hasBody(op) && { json: DEEP_JSON }) });
      if (NO_SCOPE.has(op.label)) {
        expect(res.status, op.label).toBe(200);
        continue;
      }
      if (ANY_CREDENTIAL.has(op.label)) {
        expect(res.body?.code, op.label).not.toBe("insufficient_scope");
        continue;
      }
      expectClientProblem(res, `${op.label} wrong scope`, 403, "insufficient_scope");
      // A GET reads, except GET /v1/listen: opening a listen session creates a subscription, so it needs webhooks:write.
      const reads = (op.method === "GET" || op.method === "HEAD") && op.template !== "/v1/listen";
      const write = reads ? ":read" : ":write";
      expect(res.body.requiredScope, op.label).toMatch(new RegExp(`^[a-z]+${write}$`));
    }
    expect(await snapshot()).toEqual(before);
  });

  it("operator routes: no token, a wrong token or a tenant key → 401, whatever the body; nothing stored", async () => {
    const before = await snapshot();
    const cases: [string, Record<string, string>, string][] = [
      ["no token", {}, "unauthorized"],
      ["a wrong token", { authorization: "Bearer not-the-admin-token-at-all" }, "invalid_credential"],
      ["a tenant key", { authorization: `Bearer ${creds.tenantKey}` }, "invalid_credential"],
      ["the token as X-Api-Key", { "x-api-key": "anything" }, "unauthorized"],
    ];
    for (const op of adminOps) {
      const path = fill(op.template, MADE_UP_IDS);
      for (const [what, headers, code] of cases) {
        for (const [shape, body] of hasBody(op) ? HOSTILE_BODIES : [["no body", undefined] as const]) {
          const res = await send(op, path, { headers, ...(body !== undefined && { json: body }) });
          expectClientProblem(res, `${op.label} ${what}, ${shape}`, 401, code);
        }
      }
    }
    expect(await snapshot()).toEqual(before);
  });
});
