import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "./client";
import {
  browserTenant,
  launchBrowser,
  must,
  openPage,
  openScreen,
  realErrors,
  screenshot,
  scrollsSideways,
  seriousViolations,
  signIn,
} from "./dashboard-browser";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe("dashboard: Usage and Errors, in Chromium", { timeout: 120_000 }, () => {
  it("Usage shows the tenant's requests by outcome; Errors finds a request by the id its caller got", async () => {
    const t = await browserTenant();
    const reader = (await must("POST", "/v1/keys", t.key, { name: "reader", scopes: ["keys:read"] })) as { key: string };
    for (let i = 0; i < 3; i++) expect((await api("GET", "/v1/keys", { key: reader.key })).status).toBe(200);
    const refused = await api("POST", "/v1/keys", { key: reader.key, body: { name: "x", scopes: ["keys:read"] } });
    expect(refused.status).toBe(403);
    const requestId = refused.headers.get("x-request-id")!;

    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, t.key);
    await openScreen(page, "Usage");
    const chart = page.getByRole("img", { name: /requests in the last 24 hours/ });
    await chart.waitFor();
    const words = (await chart.getAttribute("aria-label")) ?? "";
    // The reader's 4 and the tenant key's own (create key, sign in...): at least the reader's, with its refusal.
    expect(Number(words.split(" ")[0])).toBeGreaterThanOrEqual(4);
    expect(words).toMatch(/[1-9]\d* client errors/);
    await page.getByRole("button", { name: "7 d" }).click();
    await page.getByRole("img", { name: /in the last 7 days/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "usage");

    await openScreen(page, "Errors");
    await page.getByRole("cell", { name: requestId }).waitFor();
    await page.getByLabel("Request id").fill(requestId);
    await page.getByLabel("Request id").press("Enter");
    const found = page.locator("dl.detail");
    await found.waitFor();
    expect(await found.textContent()).toContain("insufficient_scope");
    expect(await found.textContent()).toContain("POST /v1/keys");
    await page.getByLabel("Request id").fill("req_nobodyGotThis");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByText("No error was kept for req_nobodyGotThis").waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "errors");

    // 375 px: nothing scrolls sideways.
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, "errors-375");
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });
});
