import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, callWithEnv, expectProblem, newTenant } from "./helpers";

async function operatorSignIn() {
  const res = await call("POST", "/admin/dashboard-sessions", { admin: true });
  expect(res.status).toBe(201);
  return res.body as { token: string; sessionId: string; kind: string; actor: string; expiresAt: string };
}

describe("operator console sessions: the operator token exchanged for a session", () => {
  it("answers a session token (not the operator token) that works on /admin/* until sign-out", async () => {
    const s = await operatorSignIn();
    expect(s).toMatchObject({ kind: "operator", actor: "operator" });
    expect(s.sessionId).toMatch(/^ses_/);
    expect(s.token).not.toContain(ADMIN_TOKEN);
    expect(Date.parse(s.expiresAt) - Date.now()).toBeLessThanOrEqual(8 * 3600 * 1000);

    const { tenant } = await newTenant();
    const list = await call("GET", `/admin/tenants?search=${encodeURIComponent(tenant.name)}`, { key: s.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((t: { id: string }) => t.id)).toEqual([tenant.id]);

    const out = await call("DELETE", "/admin/dashboard-sessions/current", { key: s.token });
    expect(out.status).toBe(204);
    expectProblem(await call("GET", "/admin/tenants", { key: s.token }), 401, "session_ended");
    // Another session is untouched.
    const other = await operatorSignIn();
    expect((await call("GET", "/admin/tenants", { key: other.token })).status).toBe(200);
  });

  it("audits sign-in and sign-out in the operator's log", async () => {
    const s = await operatorSignIn();
    await call("DELETE", "/admin/dashboard-sessions/current", { key: s.token });
    const log = await call("GET", "/admin/audit-log?limit=100&action=dashboard.session_ended", { admin: true });
    expect(log.status).toBe(200);
    expect(log.body.data.some((e: { target: string }) => e.target === s.sessionId)).toBe(true);
    expect(JSON.stringify(log.body)).not.toContain(s.token);
  });

  it("refuses a wrong operator token, a session starting another, and sign-out with the operator token", async () => {
    expectProblem(await call("POST", "/admin/dashboard-sessions", { key: "not-the-operator-token-at-all" }), 401, "invalid_credential");
    expectProblem(await call("POST", "/admin/dashboard-sessions"), 401, "unauthorized");
    const s = await operatorSignIn();
    expectProblem(await call("POST", "/admin/dashboard-sessions", { key: s.token }), 403, "credential_type_not_allowed");
    expectProblem(await call("DELETE", "/admin/dashboard-sessions/current", { admin: true }), 403, "credential_type_not_allowed");
    // Nothing ended by the refusals.
    expect((await call("GET", "/admin/tenants", { key: s.token })).status).toBe(200);
  });

  it("refuses a tampered token and a tenant's dashboard session on /admin", async () => {
    const s = await operatorSignIn();
    const [h, p, sig] = s.token.split(".");
    const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = `${h}.${btoa(JSON.stringify({ ...claims, sub: "operator:mallory@example.com" }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_")}.${sig}`;
    expectProblem(await call("GET", "/admin/tenants", { key: forged }), 401, "invalid_credential");

    const { key } = await newTenant();
    const tenantSession = await call("POST", "/v1/dashboard-sessions", { key });
    expect(tenantSession.status).toBe(201);
    expectProblem(await call("GET", "/admin/tenants", { key: tenantSession.body.token }), 401, "invalid_credential");
  });

  it("ends every session when ADMIN_TOKEN changes", async () => {
    const s = await operatorSignIn();
    const res = await callWithEnv({ ADMIN_TOKEN: "a-brand-new-operator-token-123" }, "GET", "/admin/tenants", { key: s.token });
    expectProblem(res, 401, "invalid_credential");
  });
});
