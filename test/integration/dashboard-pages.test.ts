import { describe, expect, it } from "vitest";
import { call, callWithEnv, expectProblem, fieldError, newTenant } from "./helpers";

const INSECURE = { ALLOW_INSECURE_URLS: "true" };
const SECURE = { ALLOW_INSECURE_URLS: "false" };

const csp = (res: { headers: Headers }) => res.headers.get("content-security-policy") ?? "";
const directive = (policy: string, name: string) =>
  policy
    .split(";")
    .map((d) => d.trim())
    .find((d) => d.startsWith(`${name} `));

const patchOrigins = (id: string, portalOrigins: unknown, env = SECURE) =>
  callWithEnv(env, "PATCH", `/admin/tenants/${id}`, { admin: true, body: { portalOrigins } });

describe("tenant portalOrigins (PATCH /admin/tenants/:id)", () => {
  it("are https origins, normalized, shown on the tenant; null clears them", async () => {
    const { tenant } = await newTenant();
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.portalOrigins).toEqual([]);
    const res = await patchOrigins(tenant.id, [
      "https://app.example.com",
      "HTTPS://Admin.Example.com:443/",
      "https://app.example.com",
      "https://[2001:db8::1]:8443",
    ]);
    expect(res.status).toBe(200);
    expect(res.body.portalOrigins).toEqual(["https://app.example.com", "https://admin.example.com", "https://[2001:db8::1]:8443"]);
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.portalOrigins).toEqual(res.body.portalOrigins);
    const cleared = await patchOrigins(tenant.id, null);
    expect(cleared.body.portalOrigins).toEqual([]);
  });

  it("refuses http:// unless insecure URLs are allowed (local development)", async () => {
    const { tenant } = await newTenant();
    const refused = await patchOrigins(tenant.id, ["https://ok.example.com", "http://localhost:3000"]);
    expectProblem(refused, 422, "validation_failed");
    expect(fieldError(refused, "portalOrigins.1").message).toMatch(/https/);
    const allowed = await patchOrigins(tenant.id, ["http://localhost:3000"], INSECURE);
    expect(allowed.status).toBe(200);
    expect(allowed.body.portalOrigins).toEqual(["http://localhost:3000"]);
  });

  it("refuses anything but an origin: paths, queries, wildcards, credentials, other schemes, CSP keywords", async () => {
    const { tenant } = await newTenant();
    const bad = [
      "https://app.example.com/embed",
      "https://app.example.com?x=1",
      "https://app.example.com#top",
      "app.example.com",
      "https://*.example.com",
      "https://user:pw@app.example.com",
      "ftp://app.example.com",
      "javascript:alert(1)",
      "'self'",
      "*",
      "https://a.example.com; script-src *",
      "https://a.example.com https://b.example.com",
    ];
    for (const origin of bad) {
      const res = await patchOrigins(tenant.id, [origin], INSECURE);
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "portalOrigins.0").message).toMatch(/origin/);
    }
    const tooMany = await patchOrigins(
      tenant.id,
      Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`),
    );
    expectProblem(tooMany, 422, "validation_failed");
    expect((await call("GET", `/admin/tenants/${tenant.id}`, { admin: true })).body.portalOrigins).toEqual([]);
  });
});

describe("the dashboard's Content-Security-Policy", () => {
  it("/dashboard: own scripts and styles only, no inline code, framing refused", async () => {
    const res = await call("GET", "/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const policy = csp(res);
    expect(directive(policy, "script-src")).toBe("script-src 'self'");
    expect(directive(policy, "style-src")).toBe("style-src 'self'");
    expect(directive(policy, "default-src")).toBe("default-src 'none'");
    expect(directive(policy, "connect-src")).toBe("connect-src 'self'");
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).not.toContain("unsafe-eval");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    // No inline script, no inline style, nothing from another host.
    expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(res.text).not.toMatch(/<style|\sstyle=/);
    expect(res.text).not.toMatch(/https?:\/\//);
  });

  it("its script and stylesheet are served by the Worker under content-hashed names", async () => {
    const page = await call("GET", "/dashboard");
    const script = /src="(\/dashboard\/assets\/app\.[0-9a-f]{12}\.js)"/.exec(page.text)?.[1];
    const style = /href="(\/dashboard\/assets\/app\.[0-9a-f]{12}\.css)"/.exec(page.text)?.[1];
    expect(script).toBeTruthy();
    expect(style).toBeTruthy();
    const js = await call("GET", script!);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(js.text.length).toBeGreaterThan(1000);
    expect((await call("GET", style!)).headers.get("content-type")).toMatch(/^text\/css/);
    expectProblem(await call("GET", "/dashboard/assets/app.000000000000.js"), 404, "not_found");
    expectProblem(await call("GET", "/dashboard/assets/constructor"), 404, "not_found");
  });

  it("/dashboard/portal/:tenant: framed only by the tenant's portalOrigins, at once after a change", async () => {
    const { tenant } = await newTenant();
    const page = () => call("GET", `/dashboard/portal/${tenant.id}`);
    expect(directive(csp(await page()), "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect((await page()).headers.get("x-frame-options")).toBe("DENY");

    await patchOrigins(tenant.id, ["https://app.example.com", "https://admin.example.com"]);
    const framed = await page();
    expect(framed.status).toBe(200);
    expect(directive(csp(framed), "frame-ancestors")).toBe("frame-ancestors https://app.example.com https://admin.example.com");
    expect(directive(csp(framed), "script-src")).toBe("script-src 'self'");
    expect(framed.headers.get("x-frame-options")).toBeNull();

    await patchOrigins(tenant.id, []);
    expect(directive(csp(await page()), "frame-ancestors")).toBe("frame-ancestors 'none'");
  });

  it("an unknown or malformed tenant id gets the page, never framed", async () => {
    for (const id of ["ten_doesnotexist", "not-a-tenant", "ten_%3Cscript%3E"]) {
      const res = await call("GET", `/dashboard/portal/${id}`);
      expect(res.status).toBe(200);
      expect(directive(csp(res), "frame-ancestors")).toBe("frame-ancestors 'none'");
    }
  });
});

describe("/docs", () => {
  it("serves Swagger UI from the Worker, started by a script file, under its own CSP", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    const policy = csp(res);
    expect(directive(policy, "script-src")).toBe("script-src 'self'");
    expect(directive(policy, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(res.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(res.text).not.toMatch(/https?:\/\//);
    const assets = [...res.text.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(3);
    for (const path of assets) {
      const asset = await call("GET", path);
      expect(asset.status).toBe(200);
      expect(asset.text).not.toContain("sourceMappingURL");
    }
    expect(assets.some((p) => p.includes("swagger-ui-bundle"))).toBe(true);
  });
});
