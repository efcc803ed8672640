import { afterEach, describe, expect, it } from "vitest";
import { call } from "./helpers";

/**
 * The pages tenants see under the operator's brand: /dashboard, the portal
 * and /docs titled `<productName> — Integrations`, the logo served as an
 * image (an SVG under a CSP that runs nothing), the accent as a stylesheet,
 * and no word "Hookgate" once a brand is set. Each test returns to the defaults.
 */

afterEach(async () => {
  expect((await call("DELETE", "/admin/branding", { admin: true })).status).toBe(200);
});

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><script>alert(1)</script><rect width="8" height="8"/></svg>';
const BRAND = {
  productName: "Acme <b>Pay</b>",
  headerPrefix: "Acme",
  accentColor: "#ffcc00",
  logo: `data:image/svg+xml;base64,${btoa(SVG)}`,
  supportUrl: "https://acme.example/support",
  docsUrl: "https://docs.acme.example/",
};
const page = async (path: string) => {
  const res = await call("GET", path, { headers: { accept: "text/html" } });
  expect(res.status, path).toBe(200);
  return res.text;
};

describe("pages under the brand", () => {
  it("by default: Hookgate's name, no logo, no accent override", async () => {
    expect(await page("/dashboard")).toContain("<title>Hookgate — Integrations</title>");
    expect(await page("/docs")).toContain("<title>Hookgate — Integrations</title>");
    expect((await call("GET", "/dashboard/brand/logo")).status).toBe(404);
    const theme = await call("GET", "/dashboard/brand/theme.css");
    expect(theme.headers.get("content-type")).toMatch(/^text\/css/);
    expect(theme.text).not.toContain("--accent:");
  });

  it("with a brand: the name (escaped) in every page, the logo linked never inlined, and no Hookgate anywhere", async () => {
    expect((await call("PUT", "/admin/branding", { admin: true, body: BRAND })).status).toBe(200);
    for (const path of ["/dashboard", "/dashboard/portal/ten_nothere", "/docs", "/"]) {
      const html = await page(path);
      expect(html, path).not.toMatch(/hookgate/i);
      expect(html, path).toContain("Acme &lt;b&gt;Pay&lt;/b&gt;");
      expect(html, path).not.toContain("<b>Pay</b>");
      expect(html, path).not.toContain("data:image/svg");
      expect(html, path).not.toContain("<script>alert");
    }
    const dashboard = await page("/dashboard");
    expect(dashboard).toContain("<title>Acme &lt;b&gt;Pay&lt;/b&gt; — Integrations</title>");
    expect(dashboard).toMatch(/data-logo="\/dashboard\/brand\/logo\?v=[0-9a-z]+"/);
    expect(dashboard).toContain('data-support-url="https://acme.example/support"');
    expect(dashboard).toContain('data-docs-url="https://docs.acme.example/"');
    const docs = await page("/docs");
    expect(docs).toContain('<img class="brand-logo" src="/dashboard/brand/logo?v=');
    expect(docs).toContain('href="https://acme.example/support"');
    // The API document /docs renders is told in the brand's words too.
    const openapi = await call("GET", "/openapi.json");
    expect(openapi.body.info.title).toBe("Acme <b>Pay</b> API");
    expect(openapi.text).not.toMatch(/(?<![\w-])Hookgate(?![\w-])/);
    expect(openapi.text).not.toContain("X-Webhook-Signature");
  });

  it("serves an SVG logo as an image under a CSP that runs nothing, never sniffed", async () => {
    await call("PUT", "/admin/branding", { admin: true, body: BRAND });
    const res = await call("GET", "/dashboard/brand/logo");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("sandbox");
    expect(csp).not.toMatch(/script-src/);
    expect(res.text).toBe(SVG);
    const again = await call("GET", "/dashboard/brand/logo", { headers: { "if-none-match": res.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  it("serves a PNG logo with its own type", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await call("PUT", "/admin/branding", {
      admin: true,
      body: { productName: "Acme", logo: `data:image/png;base64,${btoa(String.fromCharCode(...png))}` },
    });
    const res = await call("GET", "/dashboard/brand/logo");
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("the accent reaches the pages as a stylesheet, darkened to keep 4.5:1", async () => {
    const set = await call("PUT", "/admin/branding", { admin: true, body: BRAND });
    const used = set.body.accentColorUsed as string;
    expect(used).not.toBe("#ffcc00");
    const theme = await call("GET", "/dashboard/brand/theme.css");
    expect(theme.text).toContain(`--accent:${used};`);
    expect(theme.text).toContain("--accent-fg:#ffffff;");
    expect(await page("/dashboard")).toContain('<link rel="stylesheet" href="/dashboard/brand/theme.css?v=');
  });
});
