import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, api, baseUrl } from "./client";
import { browserTenant, launchBrowser, must, openPage, realErrors, seriousViolations, settled } from "./dashboard-browser";

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function operatorScreen(page: Page, screen: string): Promise<void> {
  await page.goto(`${baseUrl()}/dashboard`);
  await page.getByRole("button", { name: "Use the operator token instead" }).click();
  await page.getByLabel("Operator token").fill(adminToken());
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
  await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: screen, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: screen, exact: true }).waitFor();
  await settled(page);
}

const typeOf = async (name: string) => (await api("GET", `/admin/event-types/${name}`, { admin: true })).body;

describe("the operator console's own screens, in Chromium", { timeout: 120_000 }, () => {
  it("Event catalog: add a type, deprecate it, archive it (asks first); a refused name is shown", async () => {
    const name = `console.t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const w = await openPage(browser);
    const { page } = w;
    await operatorScreen(page, "Event catalog");

    await page.getByLabel("Event type name").fill("Not a valid name!");
    await page.getByRole("button", { name: "Add event type" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/name/);

    await page.getByLabel("Event type name").fill(name);
    await page.getByLabel("Description (optional)").fill("Made in the console");
    await page.getByRole("button", { name: "Add event type" }).click();
    await page.getByText(`${name} is added.`).waitFor();
    expect(await typeOf(name)).toMatchObject({ name, description: "Made in the console", deprecated: false, archived: false });

    await page.getByRole("button", { name: `Deprecate ${name}` }).click();
    await page.getByText(`${name} is deprecated.`).waitFor();
    expect((await typeOf(name)).deprecated).toBe(true);

    await page.getByRole("button", { name: `Archive ${name}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    expect((await typeOf(name)).archived).toBe(false);
    await page.getByRole("button", { name: `Archive ${name}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Archive" }).click();
    await page.getByText(`${name} is archived.`).waitFor();
    expect((await typeOf(name)).archived).toBe(true);

    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations)).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("works from the keyboard: search, open a tenant, Revoke asks and Escape cancels, focus is outlined", async () => {
    const t = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body as { name: string };
    const spare = await must("POST", "/v1/keys", t.key, { name: "spare-key", scopes: ["keys:read"] });
    const w = await openPage(browser);
    const { page } = w;
    await operatorScreen(page, "Tenants");
    await page.getByLabel("Name or id").focus();
    await page.keyboard.type(tenant.name);
    await page.keyboard.press("Enter");
    const link = page.getByRole("link", { name: tenant.name });
    await link.waitFor();
    await link.focus();
    expect(await page.evaluate(() => getComputedStyle(document.activeElement as HTMLElement).outlineStyle)).toBe("solid");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: tenant.name }).waitFor();
    await page.getByRole("link", { name: "API Keys", exact: true }).focus();
    await page.keyboard.press("Enter");
    const revoke = page.getByRole("button", { name: "Revoke spare-key" });
    await revoke.waitFor();
    await revoke.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    // Focus is back on the button that opened the dialog, and the key still works.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Revoke spare-key");
    expect((await api("GET", "/v1/keys", { key: spare.key })).status).toBe(200);

    // The operator audit log, filtered by action, shows this console session's sign-in.
    const sessionId = await page.evaluate(() => JSON.parse(sessionStorage.getItem("hookgate.operator") ?? "{}").sessionId as string);
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Operator audit log", exact: true }).click();
    await page.getByLabel("Action").fill("dashboard.session_started");
    await page.getByRole("button", { name: "Filter" }).click();
    const actions = () => page.getByRole("table").locator("td[data-label=Action]").allTextContents();
    await expect.poll(async () => new Set(await actions())).toEqual(new Set(["dashboard.session_started"]));
    expect(await page.getByRole("table").textContent()).toContain(sessionId);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Gateway: shows the routes, names a bad one, saves the form as one PUT", async () => {
    const before = await api("GET", "/admin/gateway", { admin: true });
    const w = await openPage(browser);
    const { page } = w;
    await operatorScreen(page, "Gateway");
    if (before.status === 200) expect(await page.getByLabel("Origin").inputValue()).toBe(before.body.origin);

    await page.getByLabel("Origin").fill("https://api.example.com");
    await page.getByLabel("Hosts").fill("");
    await page.getByLabel("Routes").fill("GET no-leading-slash");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("routes.0");
    const after = await api("GET", "/admin/gateway", { admin: true });
    expect(after.status).toBe(before.status);
    if (before.status === 200) expect(after.body).toEqual(before.body);

    await page.getByLabel("Routes").fill("GET /console-test/* - 2\nPOST /console-test/runs - 1");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    const saved = (await api("GET", "/admin/gateway", { admin: true })).body;
    expect(saved).toMatchObject({ origin: "https://api.example.com", hosts: [] });
    expect(saved.routes).toEqual([
      { method: "GET", path: "/console-test/*", scope: null, cost: 2 },
      { method: "POST", path: "/console-test/runs", scope: null, cost: 1 },
    ]);
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations)).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
    if (before.status === 200) {
      const { origin, hosts, routes } = before.body;
      expect((await api("PUT", "/admin/gateway", { admin: true, body: { origin, hosts, routes } })).status).toBe(200);
    }
  });
});
