import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, expectProblem, newTenant, unique } from "./helpers";

type Link = { url: string; expiresAt: string; scopes: string[] };

const admin = { admin: true } as const;
const mint = (tenantId: string, body?: unknown) => call("POST", `/admin/tenants/${tenantId}/portal-sessions`, { ...admin, body });
const tokenOf = (link: Link) => new URL(link.url).hash.replace(/^#token=/, "");
const redeem = (token: string) => call("POST", "/v1/portal-sessions/redeem", { body: { token } });
const linksOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM portal_links WHERE tenant_id = ?").bind(tenantId).first<{ n: number }>())?.n;

describe("POST /admin/tenants/:id/portal-sessions", () => {
  it("makes the same one-time link, for every scope by default, without a tenant key", async () => {
    const { tenant, key } = await newTenant();
    const res = await mint(tenant.id, {});
    expect(res.status, res.text).toBe(201);
    const link: Link = res.body;
    expect(new URL(link.url).pathname).toBe(`/dashboard/portal/${tenant.id}`);
    expect(link.scopes).toEqual(["api:read", "api:write"]);
    const session = await redeem(tokenOf(link));
    expect(session.status, session.text).toBe(201);
    expect(session.body).toMatchObject({ kind: "portal", tenantId: tenant.id });
    const session2 = session.body.token as string;
    const created = await call("POST", "/v1/keys", { key: session2, body: { name: unique(), scopes: ["keys:read"] } });
    expect(created.status, created.text).toBe(201);
    expect((await call("GET", "/v1/webhooks", { key: session2 })).status).toBe(200);
    expectProblem(await redeem(tokenOf(link)), 410, "portal_link_expired");
    // The session makes no further links, and reaches no other tenant.
    expectProblem(await call("POST", "/v1/portal-sessions", { key: session2, body: {} }), 403, "credential_type_not_allowed");
    const other = await newTenant();
    const hooks = await call("GET", `/v1/keys/${other.keyId}`, { key: session2 });
    expectProblem(hooks, 404, "not_found");

    const requestId = res.headers.get("x-request-id");
    const tenantLog = await call("GET", "/v1/audit-log?action=portal_session.created", { key });
    expect(tenantLog.body.data.find((e: { requestId: string }) => e.requestId === requestId)).toMatchObject({ actor: "operator" });
    const operatorLog = await call("GET", "/admin/audit-log?action=portal_session.created&limit=100", admin);
    expect(operatorLog.body.data.find((e: { requestId: string }) => e.requestId === requestId)).toMatchObject({
      actor: "operator",
      details: { tenantId: tenant.id },
    });
    expect(JSON.stringify(operatorLog.body)).not.toContain(tokenOf(link));
    // What the operator's Integrations page did is the operator's, by name, in the tenant's log.
    const byPage = await call("GET", "/v1/audit-log?action=key.created", { key });
    const entry = byPage.body.data.find((e: { target: string }) => e.target === created.body.id);
    expect(entry).toMatchObject({ actor: expect.stringMatching(/^opr_/), actorName: "Operator" });
  });

  it("readOnly keeps only :read scopes, and the session cannot write", async () => {
    const { tenant } = await newTenant();
    const all = await mint(tenant.id, { readOnly: true });
    expect(all.body.scopes).toEqual(["api:read"]);
    const some = await mint(tenant.id, { scopes: ["keys:read", "keys:write", "webhooks:read"], readOnly: true, expiresInSeconds: 600 });
    expect(some.body.scopes).toEqual(["keys:read", "webhooks:read"]);
    const session = (await redeem(tokenOf(all.body))).body.token as string;
    expect((await call("GET", "/v1/keys", { key: session })).status).toBe(200);
    expectProblem(
      await call("POST", "/v1/keys", { key: session, body: { name: unique(), scopes: ["keys:read"] } }),
      403,
      "insufficient_scope",
    );
  });

  it("refuses bad input with 422 naming the field, a wrong token with 401, an unknown tenant with 404; no link is made", async () => {
    const { tenant } = await newTenant();
    const cases: [unknown, string][] = [
      [{ expiresInSeconds: 10 }, "expiresInSeconds"],
      [{ readOnly: "yes" }, "readOnly"],
      [{ scopes: ["nope:read"] }, "scopes"],
      [{ scopes: ["keys:write"], readOnly: true }, "scopes"],
    ];
    for (const [body, field] of cases) {
      const res = await mint(tenant.id, body);
      expectProblem(res, 422, "validation_failed");
      expect(
        res.body.errors.some((e: { path: string }) => e.path.split(".")[0] === field),
        res.text,
      ).toBe(true);
    }
    const wrong = await call("POST", `/admin/tenants/${tenant.id}/portal-sessions`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
      body: {},
    });
    expectProblem(wrong, 401, "invalid_credential");
    expectProblem(await mint("ten_00000000000000000000", {}), 404, "not_found");
    expect(await linksOf(tenant.id)).toBe(0);
  });
});
