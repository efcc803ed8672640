import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "./client";
import {
  browserTenant,
  launchBrowser,
  must,
  openPage,
  pageSessionToken,
  screenshot,
  seriousViolations,
  settled,
  signIn,
} from "./dashboard-browser";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe("dashboard: the Test mode switch, in Chromium", { timeout: 120_000 }, () => {
  it("a live key's session switches to test mode and back: the banner shows on every screen, and each mode lists its own keys", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/keys", key, { name: "Live reader", scopes: ["keys:read"] });
    await must("POST", "/v1/keys", key, { name: "Sandbox reader", scopes: ["keys:read"], mode: "test" });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    await settled(page);
    const toggle = page.getByRole("switch", { name: "Test mode" });
    expect(await toggle.isChecked()).toBe(false);
    expect(await toggle.isDisabled()).toBe(false);
    expect(await page.locator(".test-mode-banner").count()).toBe(0);
    const main = page.locator("main");
    await expect.poll(() => main.textContent()).toContain("Live reader");
    expect(await main.textContent()).not.toContain("Sandbox reader");

    await toggle.click();
    const banner = page.getByRole("status").filter({ hasText: "Test mode" });
    await banner.waitFor();
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await expect.poll(() => main.textContent()).toContain("Sandbox reader");
    expect(await main.textContent()).not.toContain("Live reader");
    // The page now holds a test mode session of the same key.
    const token = await pageSessionToken(page);
    expect((await api("GET", "/v1/whoami", { key: token! })).body.mode).toBe("test");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "test-mode-keys");

    // The banner stays on every screen while the switch is on.
    const screens = (await page.getByRole("navigation").getByRole("link").allTextContents()).map((t) => t.trim());
    expect(screens.length).toBeGreaterThan(3);
    for (const name of screens.filter((n) => n !== "API Keys")) {
      await page.getByRole("navigation").getByRole("link", { name, exact: true }).click();
      await page.getByRole("heading", { level: 1, name, exact: true }).waitFor();
      expect(await banner.isVisible(), name).toBe(true);
    }

    // A key made in test mode is a test key.
    await page.getByRole("navigation").getByRole("link", { name: "API Keys", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name").fill("Made in test mode");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByRole("region", { name: /New key Made in test mode/ });
    await secret.waitFor();
    expect(await secret.getByRole("textbox").inputValue()).toMatch(/^hg_test_/);

    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(false);
    await expect.poll(() => page.locator(".test-mode-banner").count()).toBe(0);
    await expect.poll(() => main.textContent()).toContain("Live reader");
    expect(await main.textContent()).not.toContain("Made in test mode");
    expect((await api("GET", "/v1/whoami", { key: (await pageSessionToken(page))! })).body.mode).toBe("live");
    await screenshot(page, "test-mode-off");
    await w.context.close();
  });

  it("a test key's session is in test mode only: the switch is on and cannot be turned off", async () => {
    const { key } = await browserTenant();
    const test = await must("POST", "/v1/keys", key, { name: "Sandbox admin", scopes: ["api:read", "api:write"], mode: "test" });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, test.key);
    await page.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    const toggle = page.getByRole("switch", { name: "Test mode" });
    expect(await toggle.isChecked()).toBe(true);
    expect(await toggle.isDisabled()).toBe(true);
    expect(await page.getByRole("status").filter({ hasText: "Test mode" }).isVisible()).toBe(true);
    await screenshot(page, "test-mode-test-key");
    await w.context.close();
  });
});
