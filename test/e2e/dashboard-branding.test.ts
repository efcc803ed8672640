import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, baseUrl } from "./client";
import { browserTenant, launchBrowser, must, openPage, openScreen, realErrors, screenshot, settled, signIn } from "./dashboard-browser";

/**
 * The dashboard, the portal and /docs under an operator's brand, in Chromium:
 * the title, the logo (an <img> of /dashboard/brand/logo), the accent, the
 * footer links, no "Hookgate" on any screen, and an SVG logo whose script
 * never runs, shown in the page or opened on its own. The suite shares one
 * `wrangler dev`: the brand is removed again in afterAll.
 */

let browser: Browser;
let accentUsed = "";

// If it ran anywhere: a dialog, a request to /svg-ran, and a changed title.
const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32">
<script>alert("svg-ran"); fetch("/svg-ran"); try { top.document.title = "svg-ran"; } catch (e) {}</script>
<rect width="32" height="32" rx="6" fill="#c2410c"/><text x="40" y="22" font-family="sans-serif" font-size="16" fill="#1a1a1a">Acme</text></svg>`;
const BRAND = {
  productName: "Acme Cloud",
  headerPrefix: "Acme",
  userAgent: "Acme-Webhooks/1.0",
  accentColor: "#ff8c00",
  logo: `data:image/svg+xml;base64,${Buffer.from(SVG).toString("base64")}`,
  supportUrl: "https://support.acme.example/",
  docsUrl: "https://docs.acme.example/",
};
const TITLE = "Acme Cloud — Integrations";

beforeAll(async () => {
  browser = await launchBrowser();
  const res = await api("PUT", "/admin/branding", { admin: true, body: BRAND });
  expect(res.status).toBe(200);
  accentUsed = res.body.accentColorUsed;
}, 120_000);

afterAll(async () => {
  await api("DELETE", "/admin/branding", { admin: true });
  await browser?.close();
});

const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;
/** The title and the body's text (scripts and styles left out: what a reader of the screen gets). */
const visibleText = (page: Page) =>
  page.evaluate(() => {
    const body = document.body.cloneNode(true) as HTMLElement;
    body.querySelectorAll("script, style, noscript").forEach((el) => {
      el.remove();
    });
    return `${document.title}\n${body.textContent ?? ""}`;
  });
const logoLoaded = (page: Page) =>
  page.evaluate(() => {
    const img = document.querySelector<HTMLImageElement>("img.brand-logo");
    return img ? { src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0 } : null;
  });

describe("the brand in Chromium", { timeout: 180_000 }, () => {
  it("signs in under the brand: title, logo, accent and footer on every screen, and no Hookgate", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid" });
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${baseUrl()}/dashboard`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.title()).toBe(TITLE);
    expect(await visibleText(page)).not.toContain("Hookgate");
    expect(await logoLoaded(page)).toMatchObject({ loaded: true, src: expect.stringMatching(/^\/dashboard\/brand\/logo\?v=/) });

    await signIn(page, key);
    const footer = page.locator("footer.brand-footer");
    expect(await footer.getByRole("link", { name: "Support" }).getAttribute("href")).toBe(BRAND.supportUrl);
    expect(await footer.getByRole("link", { name: "Documentation" }).getAttribute("href")).toBe(BRAND.docsUrl);
    // The accent as computed (darkened from #ff8c00 so white text on it keeps 4.5:1), on the selected tab.
    const current = page.locator('nav a[aria-current="page"]');
    expect(await current.evaluate((a) => getComputedStyle(a).backgroundColor)).toBe(rgb(accentUsed));

    for (const name of ["API Keys", "Webhooks", "Delivery log", "Event types", "Incoming webhooks", "Audit log", "Usage", "Errors"]) {
      await openScreen(page, name);
      await settled(page);
      expect(await page.title(), name).toBe(TITLE);
      expect(await visibleText(page), name).not.toContain("Hookgate");
      expect((await logoLoaded(page))?.loaded, name).toBe(true);
    }
    await screenshot(page, "branded-webhooks");
    mkdirSync(path.resolve(import.meta.dirname, "../../docs/screenshots"), { recursive: true });
    await openScreen(page, "Webhooks");
    await page.screenshot({ path: path.resolve(import.meta.dirname, "../../docs/screenshots/branding.png") });

    expect(w.dialogs).toEqual([]);
    expect(w.requests.filter((u) => u.includes("svg-ran"))).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("the portal and /docs carry the brand too", async () => {
    const { key } = await browserTenant();
    const link = (await must("POST", "/v1/portal-sessions", key, {})) as { url: string };
    const w = await openPage(browser);
    await w.page.goto(link.url);
    await w.page.getByRole("button", { name: "Sign out" }).waitFor();
    await settled(w.page);
    expect(await w.page.title()).toBe(TITLE);
    expect(await visibleText(w.page)).not.toContain("Hookgate");
    expect((await logoLoaded(w.page))?.loaded).toBe(true);

    await w.page.goto(`${baseUrl()}/docs`);
    await w.page.locator(".swagger-ui .info .title").waitFor();
    expect(await w.page.title()).toBe(TITLE);
    expect(await w.page.locator(".swagger-ui .info .title").textContent()).toContain("Acme Cloud API");
    expect(await visibleText(w.page)).not.toContain("Hookgate");
    expect((await logoLoaded(w.page))?.loaded).toBe(true);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  });

  it("the SVG logo opened on its own runs nothing: no dialog, no request, its CSP sandboxes it", async () => {
    const w = await openPage(browser);
    const res = await w.page.goto(`${baseUrl()}/dashboard/brand/logo`);
    expect(res?.headers()["content-type"]).toBe("image/svg+xml");
    expect(res?.headers()["content-security-policy"]).toContain("sandbox");
    await w.page.waitForTimeout(500);
    expect(w.dialogs).toEqual([]);
    expect(w.requests.filter((u) => u.includes("svg-ran"))).toEqual([]);
    expect(await w.page.title()).not.toBe("svg-ran");
    await w.context.close();
  });
});
