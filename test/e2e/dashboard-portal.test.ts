import { createServer, type Server } from "node:http";
import type { Browser, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, baseUrl } from "./client";
import {
  browserTenant,
  foreignRequests,
  launchBrowser,
  must,
  openPage,
  openScreen,
  screenshot,
  seriousViolations,
  settled,
} from "./dashboard-browser";
import { startReceiver, until } from "./receiver";

const GONE = "This link has expired or was already used";
const WRITE_BUTTONS = ["Create key", "Rotate", "Revoke", "Add endpoint", "Send test", "Rotate secret", "Retry", "Add source"];

let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let host: Server;
/** Another site's page that embeds the portal, at http://localhost:<port> while the Worker is on 127.0.0.1. */
let hostOrigin: string;

const escapeAttr = (s: string) => s.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");

beforeAll(async () => {
  browser = await launchBrowser();
  receiver = await startReceiver(() => 200);
  host = createServer((req, res) => {
    const src = new URL(req.url ?? "/", "http://localhost").searchParams.get("src") ?? "";
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme settings</title></head>
<body><h1>Acme: integrations</h1>
<iframe title="Integrations" src="${escapeAttr(src)}" width="1000" height="700" allow="clipboard-write"></iframe>
</body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
  const address = host.address();
  if (!address || typeof address === "string") throw new Error("no address");
  hostOrigin = `http://localhost:${address.port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
});

async function portalLink(key: string, body: Record<string, unknown> = {}) {
  return (await must("POST", "/v1/portal-sessions", key, body)) as { url: string; expiresAt: string };
}

/** The portal's frame inside the host page, once it is there. */
async function portalFrame(page: Page): Promise<Frame> {
  return until("the portal frame", () => page.frames().find((f) => f.url().startsWith(`${baseUrl()}/dashboard/portal/`)), 15_000);
}

const writeButtons = async (page: Page) => {
  const found: string[] = [];
  for (const name of WRITE_BUTTONS) if ((await page.getByRole("button", { name, exact: true }).count()) > 0) found.push(name);
  return found;
};

describe("the embeddable portal, in Chromium", { timeout: 120_000 }, () => {
  it("a portal link works once: it opens a session; opening it again shows that it was used", async () => {
    const { key } = await browserTenant();
    const link = await portalLink(key, { scopes: ["keys:read"] });
    const first = await openPage(browser);
    await first.page.goto(link.url);
    await first.page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    // The token left the address bar at once; a reload keeps the session, not the link.
    expect(first.page.url()).not.toContain("#token=");
    await first.page.reload();
    await first.page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();

    const second = await openPage(browser);
    await second.page.goto(link.url);
    await second.page.getByText(GONE, { exact: true }).waitFor();
    expect(await second.page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    expect(await seriousViolations(second.page)).toEqual([]);
    await screenshot(second.page, "portal-link-used");
    expect(foreignRequests([...first.requests, ...second.requests])).toEqual([]);
    await first.context.close();
    await second.context.close();
  });

  it("read-only scopes: no write button anywhere, only the screens the scopes allow, and the API refuses writes", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid" });
    await must("POST", "/v1/webhooks", key, { url: `${receiver.url}/ro`, eventTypes: ["invoice.paid"] });
    await must("POST", "/v1/events", key, { type: "invoice.paid", data: {} });
    await must("POST", "/v1/sources", key, { name: "Form", eventType: "invoice.paid" });
    const w = await openPage(browser);
    const { page } = w;
    await page.goto((await portalLink(key, { scopes: ["api:read"] })).url);
    for (const screen of ["API Keys", "OAuth clients", "Webhooks", "Delivery log", "Incoming webhooks", "Event types", "Audit log"]) {
      await openScreen(page, screen);
      if (screen === "Webhooks") await page.getByRole("article").first().waitFor();
      expect(await writeButtons(page), screen).toEqual([]);
      // The header's "Test mode" switch changes what is viewed, not stored data: the only switch left.
      expect(await page.getByRole("switch").count(), screen).toBe(await page.getByRole("switch", { name: "Test mode" }).count());
    }
    await openScreen(page, "Delivery log");
    await page.getByRole("row").nth(1).getByRole("button").click();
    await page.getByRole("heading", { level: 1, name: /^Delivery dlv_/ }).waitFor();
    expect(await writeButtons(page)).toEqual([]);
    await screenshot(page, "portal-read-only");
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("hookgate.session") ?? "{}").token as string);
    const refused = await api("POST", "/v1/keys", { key: token, body: { name: "x", scopes: ["keys:read"] } });
    expect(refused.status).toBe(403);

    // Fewer scopes, fewer screens.
    const narrow = await openPage(browser);
    await narrow.page.goto((await portalLink(key, { scopes: ["webhooks:read"] })).url);
    await narrow.page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
    const links = await narrow.page.getByRole("navigation").getByRole("link").allTextContents();
    expect(links).toEqual(["Webhooks", "Delivery log"]);
    await w.context.close();
    await narrow.context.close();
  });

  it("works inside an iframe on another origin (the tenant's portalOrigins) with third-party cookies blocked", async () => {
    const { key, tenantId } = await browserTenant();
    const patched = await api("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { portalOrigins: [hostOrigin] } });
    expect(patched.body.portalOrigins).toEqual([hostOrigin]);
    const link = await portalLink(key, { scopes: ["keys:read", "keys:write", "webhooks:read"] });
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${hostOrigin}/?src=${encodeURIComponent(link.url)}`);
    const frame = await portalFrame(page);
    await frame.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    // This frame is third-party: its cookies are refused, and the page never needed one.
    const cookie = await frame.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: the probe that shows third-party cookies are refused here
      document.cookie = "probe=1; SameSite=None";
      return document.cookie;
    });
    expect(cookie).toBe("");
    // It can act: create a key, shown once.
    await frame.getByRole("button", { name: "Create key" }).click();
    await frame.getByLabel("Name").fill("made in the frame");
    await frame.getByRole("button", { name: "Create key" }).click();
    const made = await frame
      .getByRole("region", { name: /New key made in the frame/ })
      .getByRole("textbox")
      .inputValue();
    expect((await api("GET", "/v1/whoami", { key: made })).status).toBe(200);
    expect(await seriousViolations(frame)).toEqual([]);
    await screenshot(page, "portal-embedded");
    expect(foreignRequests(w.requests, [baseUrl(), hostOrigin])).toEqual([]);
    await w.context.close();
  });

  it("a tenant without portalOrigins (or with others) refuses framing: the frame never renders, the link stays unused", async () => {
    const { key, tenantId } = await browserTenant();
    const check = async () => {
      const link = await portalLink(key);
      const w = await openPage(browser);
      await w.page.goto(`${hostOrigin}/?src=${encodeURIComponent(link.url)}`);
      await until("the refusal", () => (w.errors.some((e) => e.includes("frame-ancestors")) ? true : undefined), 10_000);
      const frame = w.page.frames().find((f) => f !== w.page.mainFrame());
      expect(frame?.url().startsWith(baseUrl())).toBe(false);
      expect(await w.page.frameLocator("iframe").getByRole("heading").count()).toBe(0);
      await w.context.close();
      // The page never ran in the frame, so the link was not spent: it opens at the top level.
      const top = await openPage(browser);
      await top.page.goto(link.url);
      await top.page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
      await top.context.close();
    };
    await check();
    await api("PATCH", `/admin/tenants/${tenantId}`, { admin: true, body: { portalOrigins: ["https://elsewhere.example.com"] } });
    await check();
  });

  it("/docs runs Swagger UI from the Worker alone, under its own CSP", async () => {
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${baseUrl()}/docs`);
    await page
      .getByRole("heading", { name: /Hookgate API/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.locator(".opblock").first().waitFor();
    expect(await page.locator(".opblock").count()).toBeGreaterThan(20);
    expect(w.errors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
    expect(foreignRequests(w.requests)).toEqual([]);
    await settled(page);
    // The whole document is taller than a screenshot can be drawn in one piece: the first screen is enough.
    await screenshot(page, "docs", false);
    await w.context.close();
  });
});
