import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, baseUrl } from "./client";
import {
  browserTenant,
  foreignRequests,
  launchBrowser,
  must,
  openPage,
  openScreen,
  pageSessionToken,
  realErrors,
  screenshot,
  scrollsSideways,
  seriousViolations,
  signIn,
} from "./dashboard-browser";
import { startReceiver } from "./receiver";

let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  browser = await launchBrowser();
  receiver = await startReceiver((r) => (r.path.startsWith("/fail") ? 500 : 200));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
});

describe("dashboard: sign-in and API keys, in Chromium", { timeout: 120_000 }, () => {
  it("a wrong key is refused; the right one signs in, and the key is kept nowhere in the page", async () => {
    const { key } = await browserTenant();
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${baseUrl()}/dashboard`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "sign-in");

    await page.getByLabel("API key").fill(`${key.slice(0, -3)}zzz`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/malformed|not valid/);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);

    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    const kept = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie);
    expect(kept).not.toContain(key);
    expect(await page.content()).not.toContain(key);
    // What the page keeps is a session token that works on the API as the key.
    const token = await pageSessionToken(page);
    expect(token).toBeTruthy();
    expect((await api("GET", "/v1/whoami", { key: token! })).status).toBe(200);
    expect(foreignRequests(w.requests)).toEqual([]);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  });

  it("Create key: the new key is shown once with a Copy button, works on the API, and is gone after a reload", async () => {
    const { key } = await browserTenant();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name").fill("CI reader");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByRole("region", { name: /New key CI reader/ });
    await secret.waitFor();
    const value = await secret.getByRole("textbox").inputValue();
    expect(value).toMatch(/^hg_live_/);
    await secret.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => secret.getByRole("status").textContent()).toBe("Copied to the clipboard");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    await screenshot(page, "keys-created");

    // The new key works against the API with the scopes chosen (reads by default).
    expect((await api("GET", "/v1/keys", { key: value })).status).toBe(200);
    expect((await api("POST", "/v1/keys", { key: value, body: { name: "x", scopes: ["keys:read"] } })).status).toBe(403);
    const row = page.getByRole("row", { name: /CI reader/ });
    await row.waitFor();
    expect(await row.getByRole("cell").nth(3).textContent()).toBe("Never");

    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(value);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    await page.getByRole("row", { name: /CI reader/ }).waitFor();
    expect(await page.content()).not.toContain(value);
    expect(foreignRequests(w.requests)).toEqual([]);
    await w.context.close();
  });

  it("Revoke asks to confirm: Cancel keeps the key, Revoke kills it and the API refuses it; Rotate shows the new key once", async () => {
    const { key } = await browserTenant();
    const doomed = await must("POST", "/v1/keys", key, { name: "doomed", scopes: ["keys:read"] });
    const rolled = await must("POST", "/v1/keys", key, { name: "rolled", scopes: ["keys:read"] });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    const row = page.getByRole("row", { name: /doomed/ });
    await row.getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("dialog", { name: "Revoke doomed?" });
    await dialog.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "keys-revoke-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect((await api("GET", "/v1/keys", { key: doomed.key })).status).toBe(200);

    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
    await row.waitFor({ state: "detached" });
    const refused = await api("GET", "/v1/keys", { key: doomed.key });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("credential_revoked");

    await page
      .getByRole("row", { name: /rolled/ })
      .getByRole("button", { name: "Rotate" })
      .click();
    await page.getByRole("dialog", { name: "Rotate rolled?" }).getByRole("button", { name: "Rotate" }).click();
    const fresh = await page
      .getByRole("region", { name: /New key for rolled/ })
      .getByRole("textbox")
      .inputValue();
    expect(fresh).toMatch(/^hg_live_/);
    expect(fresh).not.toBe(rolled.key);
    expect((await api("GET", "/v1/keys", { key: fresh })).status).toBe(200);
    // The old one is in its hour of grace.
    expect((await api("GET", "/v1/keys", { key: rolled.key })).status).toBe(200);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  });

  it("a key named like markup is shown as text: no element is made from it, no script runs", async () => {
    const { key } = await browserTenant();
    const name = `<img src=x onerror="window.__xss=1;alert('xss')"><b>bold</b>`;
    await must("POST", "/v1/keys", key, { name, scopes: ["keys:read"] });
    await must("POST", "/v1/event-types", key, { name: "xss.probe", description: "<script>window.__xss=2</script>" });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await page.getByText(name, { exact: true }).waitFor();
    expect(await page.locator("main img, main b, main script").count()).toBe(0);
    await openScreen(page, "Event types");
    await page.getByText("<script>window.__xss=2</script>", { exact: true }).waitFor();
    expect(await page.locator("main script").count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(w.dialogs).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Sign out ends the session at once: the API refuses its token, and the page asks for a key again", async () => {
    const { key } = await browserTenant();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    const token = await pageSessionToken(page);
    expect((await api("GET", "/v1/keys", { key: token! })).status).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await page.getByRole("status").textContent()).toBe("You have signed out.");
    const after = await api("GET", "/v1/keys", { key: token! });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("session_ended");
    expect(await pageSessionToken(page)).toBeNull();
    await page.reload();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await w.context.close();
  });
});

describe("dashboard: every screen, accessible, at 375 px, from the Worker alone", { timeout: 180_000 }, () => {
  const SCREENS = ["API Keys", "OAuth clients", "Webhooks", "Delivery log", "Incoming webhooks", "Event types", "Audit log"];

  it("no serious or critical axe violation, no sideways scrolling at 375 px, keyboard focus visible", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid", description: "An invoice was paid", schema: { type: "object" } });
    const hook = await must("POST", "/v1/webhooks", key, { url: `${receiver.url}/ok`, eventTypes: ["invoice.paid"] });
    await must("POST", "/v1/webhooks", key, { url: `${receiver.url}/fail/a-very-long-path-that-must-wrap-on-a-phone`, eventTypes: ["*"] });
    await must("POST", "/v1/events", key, { type: "invoice.paid", data: { amount: 42 } });
    await must("POST", "/v1/sources", key, {
      name: "GitHub",
      eventType: "invoice.paid",
      verification: { scheme: "github", secret: "s3cret-s3cret" },
    });
    for (const [label, viewport] of [
      ["desktop", { width: 1100, height: 800 }],
      ["phone", { width: 375, height: 740 }],
    ] as const) {
      const w = await openPage(browser, viewport);
      const { page } = w;
      await signIn(page, key);
      for (const screen of SCREENS) {
        await openScreen(page, screen);
        if (screen === "Webhooks") await page.getByRole("heading", { name: hook.url }).waitFor();
        const violations = await seriousViolations(page);
        expect(violations, `${screen} (${label}): ${JSON.stringify(violations)}`).toEqual([]);
        expect(await scrollsSideways(page), `${screen} scrolls sideways at ${viewport.width} px`).toBe(false);
        await screenshot(page, `${label}-${screen.toLowerCase().replaceAll(" ", "-")}`);
      }
      // Keyboard: Tab reaches the controls, and the focused one is outlined.
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      const outline = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el && el !== document.body ? getComputedStyle(el).outlineStyle : "none";
      });
      expect(outline).toBe("solid");
      expect(foreignRequests(w.requests)).toEqual([]);
      expect(realErrors(w)).toEqual([]);
      await w.context.close();
    }
  });

  it("all the dashboard's JavaScript is under 60 KB gzipped, served by the Worker", async () => {
    const page = await (await fetch(`${baseUrl()}/dashboard`)).text();
    const scripts = [...page.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const src of scripts) {
      expect(src.startsWith("/dashboard/assets/")).toBe(true);
      const res = await fetch(`${baseUrl()}${src}`);
      expect(res.status).toBe(200);
      gzipped += gzipSync(Buffer.from(await res.arrayBuffer())).length;
    }
    console.log(`dashboard JavaScript: ${(gzipped / 1024).toFixed(1)} KiB gzipped`);
    expect(gzipped).toBeLessThan(60 * 1024);
  });
});
