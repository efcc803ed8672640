import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, api, baseUrl } from "./client";
import {
  browserTenant,
  foreignRequests,
  launchBrowser,
  must,
  openPage,
  realErrors,
  screenshot,
  scrollsSideways,
  seriousViolations,
  settled,
} from "./dashboard-browser";
import { startReceiver, until } from "./receiver";

let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  browser = await launchBrowser();
  receiver = await startReceiver(() => 200);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
});

async function operatorSignIn(page: Page): Promise<void> {
  await page.goto(`${baseUrl()}/dashboard`);
  await page.getByRole("button", { name: "Use the operator token instead" }).click();
  await page.getByLabel("Operator token").fill(adminToken());
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
  await settled(page);
}

/** A tenant with a unique name, found through the console's search and opened. */
async function openTenant(page: Page, name: string): Promise<void> {
  await page.getByLabel("Name or id").fill(name);
  await page.getByRole("button", { name: "Search" }).click();
  await expect.poll(() => page.getByRole("table").getByRole("row").count()).toBe(2);
  await page.getByRole("link", { name }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: /tabs/ }).getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { level: 2, name, exact: true }).waitFor();
  await settled(page);
}

async function axeClean(page: Page, where: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${where}: ${JSON.stringify(violations)}`).toEqual([]);
}

describe("the operator console, in Chromium", { timeout: 180_000 }, () => {
  it("signs in with the operator token, kept nowhere; a wrong one is refused", async () => {
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${baseUrl()}/dashboard`);
    await page.getByRole("button", { name: "Use the operator token instead" }).click();
    await page.getByLabel("Operator token").fill("not-the-operator-token-at-all");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/not valid/);
    await axeClean(page, "operator sign-in");
    // Where no Cloudflare Access stands in front, signing in through it is refused and says so.
    await page.getByRole("button", { name: "Sign in through Cloudflare Access" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/Cloudflare Access did not identify you/);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);

    await operatorSignIn(page);
    const kept = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie);
    expect(kept).not.toContain(adminToken());
    expect(await page.content()).not.toContain(adminToken());
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem("hookgate.operator") ?? "{}").token as string);
    expect((await api("GET", "/admin/tenants?limit=1", { key: token })).status).toBe(200);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect((await api("GET", "/admin/tenants?limit=1", { key: token })).status).toBe(401);
    expect(foreignRequests(w.requests)).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it('the operator token typed into "API key" opens Tenants too; a wrong value is refused as a key', async () => {
    const w = await openPage(browser);
    const { page } = w;
    await page.goto(`${baseUrl()}/dashboard`);
    await page.getByLabel("API key").fill("not-a-key-and-not-the-token");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBeTruthy();
    expect(await page.getByRole("heading", { level: 1, name: "Tenants" }).count()).toBe(0);
    await page.getByLabel("API key").fill(adminToken());
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
    expect(await page.content()).not.toContain(adminToken());
    await w.context.close();
  });

  it("finds a tenant by search; revokes a key (then 401); locks an allowlist; switches a webhook off; opens the Integrations page", async () => {
    const t = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body as { name: string };
    await browserTenant(); // another tenant the search must leave out
    const leaked = await must("POST", "/v1/keys", t.key, { name: "leaked-key", scopes: ["keys:read"] });
    const partner = await must("POST", "/v1/keys", t.key, { name: "partner-key", scopes: ["keys:read"] });
    const hook = await must("POST", "/v1/webhooks", t.key, { url: "https://example.com/operator-switch", eventTypes: ["*"] });
    expect((await api("GET", "/v1/keys", { key: leaked.key })).status).toBe(200);

    const w = await openPage(browser);
    const { page } = w;
    await operatorSignIn(page);
    await openTenant(page, tenant.name);
    await axeClean(page, "Settings");

    await openTab(page, "API Keys");
    await axeClean(page, "API Keys");
    await page.getByRole("button", { name: "Revoke leaked-key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(leaked.last4);
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await page.getByText("leaked-key is revoked.").waitFor();
    expect((await api("GET", "/v1/keys", { key: leaked.key })).status).toBe(401);
    expect((await api("GET", "/v1/keys", { key: partner.key })).status).toBe(200);

    await page.getByRole("button", { name: "Lock partner-key" }).click();
    await page.getByLabel("IP allowlist").fill("203.0.113.7");
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByText("partner-key is locked.").waitFor();
    await expect.poll(() => page.getByRole("table").textContent()).toContain("IP allowlist");
    await screenshot(page, "operator-tenant-keys");
    const locked = (await api("GET", `/admin/tenants/${t.tenantId}/keys/${partner.id}`, { admin: true })).body;
    expect(locked).toMatchObject({ ipAllowlist: ["203.0.113.7"], lockedBy: { ipAllowlist: "operator" } });
    expect((await api("GET", "/v1/keys", { key: partner.key })).status).toBe(403);
    const loosen = await api("PATCH", `/v1/keys/${partner.id}`, { key: t.key, body: { ipAllowlist: [] } });
    expect(loosen.status).toBe(403);

    await openTab(page, "Webhooks");
    await axeClean(page, "Webhooks");
    const card = page.getByRole("article", { name: hook.url });
    await card.getByRole("switch", { name: "Enabled" }).click();
    await expect.poll(async () => (await must("GET", `/v1/webhooks/${hook.id}`, t.key)).isEnabled).toBe(false);
    await expect.poll(() => card.textContent()).toContain("Disabled");

    await openTab(page, "Audit log");
    await expect.poll(() => page.getByRole("table").textContent()).toContain("operator");
    await axeClean(page, "Audit log");
    await openTab(page, "Delivery log");
    await axeClean(page, "Delivery log");

    const [portal] = await Promise.all([
      w.context.waitForEvent("page"),
      page.getByRole("button", { name: "Open Integrations page" }).click(),
    ]);
    await portal.waitForURL(`${baseUrl()}/dashboard/portal/**`);
    await portal.getByRole("button", { name: "Sign out" }).waitFor();
    // The header names the tenant (by name, not id).
    await expect.poll(() => portal.locator("header").textContent()).toContain(t.tenantName);
    // Read-only: the keys screen offers no "Create key".
    await portal.getByRole("heading", { level: 1, name: "API Keys" }).waitFor();
    await settled(portal);
    expect(await portal.getByRole("button", { name: "Create key" }).count()).toBe(0);
    expect(foreignRequests(w.requests)).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Settings: a bad value is named next to its field and nothing changes; a good one is saved", async () => {
    const t = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body as { name: string; dataShards: number };
    const w = await openPage(browser);
    const { page } = w;
    await operatorSignIn(page);
    await openTenant(page, tenant.name);
    await page.getByLabel("Data shards").fill("abc");
    await page.getByLabel("Breaker threshold").fill("7");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#shards-note").textContent()).toContain("dataShards");
    expect(await page.getByLabel("Data shards").getAttribute("aria-invalid")).toBe("true");
    const unchanged = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body;
    expect(unchanged.breakerThreshold).toBeNull();
    expect(unchanged.dataShards).toBe(tenant.dataShards);

    await page.getByLabel("Data shards").fill(String(tenant.dataShards));
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    expect((await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body.breakerThreshold).toBe(7);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Delivery log: filtered by status; a row opens every attempt with the response", async () => {
    const t = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body as { name: string };
    await must("POST", "/v1/event-types", t.key, { name: "invoice.paid", description: "An invoice was paid", schema: { type: "object" } });
    const hook = await must("POST", "/v1/webhooks", t.key, { url: `${receiver.url}/op-log`, eventTypes: ["invoice.paid"] });
    await must("POST", "/v1/events", t.key, { type: "invoice.paid", data: { amount: 42 } });
    const delivery = await until("the delivery", async () => {
      const list = (await must("GET", `/v1/deliveries?webhookId=${hook.id}`, t.key)).data as { id: string; status: string }[];
      return list.find((d) => d.status === "succeeded");
    });
    const w = await openPage(browser);
    const { page } = w;
    await operatorSignIn(page);
    await openTenant(page, tenant.name);
    await openTab(page, "Delivery log");
    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No deliveries yet.").waitFor();
    await page.getByLabel("Status").selectOption("succeeded");
    await page.getByRole("button", { name: `Attempts of ${delivery.id}` }).click();
    await page.getByRole("heading", { level: 2, name: `Delivery ${delivery.id}` }).waitFor();
    await expect.poll(() => page.getByRole("list", { name: "Attempts" }).textContent()).toContain("Attempt 1: 200");
    expect(await page.locator("dl.facts").textContent()).toContain(hook.url);
    await axeClean(page, "a delivery's attempts");
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Create tenant shows the first key once, with Copy; the key works", async () => {
    const w = await openPage(browser);
    const { page } = w;
    await operatorSignIn(page);
    const name = `console-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page.getByLabel("Tenant name").fill(name);
    // The form's own "Create tenant" (the list's button is hidden while the form is open).
    await page.getByRole("button", { name: "Create tenant" }).click();
    const secret = page.getByRole("region", { name: `First key of ${name}` });
    await secret.waitFor();
    const key = await secret.getByRole("textbox").inputValue();
    await secret.getByRole("button", { name: "Copy" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    expect((await api("GET", "/v1/whoami", { key })).status).toBe(200);
    await secret.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(key);
    await w.context.close();
  });

  it("Product scopes: add one and remove it (asks first); Operator endpoints: the enable switch", async () => {
    const t = await browserTenant();
    // At least one scope is already there, so adding one sends the list the screen read back (as it is on a live console).
    const current = (await api("GET", "/admin/scopes", { admin: true })).body.data as { name: string; description: string | null }[];
    const seeded = { name: `seed${Date.now().toString(36)}:read`, description: "listed before the console adds one" };
    const kept = current.map(({ name, description }) => ({ name, description }));
    expect((await api("PUT", "/admin/scopes", { admin: true, body: { scopes: [...kept, seeded] } })).status).toBe(200);
    const before = (await api("GET", "/admin/scopes", { admin: true })).body.data as { name: string }[];
    const scope = `console${Date.now().toString(36)}:read`;
    const hook = (await api("POST", "/admin/webhooks", {
      admin: true,
      body: { url: `https://example.com/ops-${scope.replace(":", "-")}`, eventTypes: ["*"], tenantIds: [t.tenantId] },
    })) as { status: number; body: { id: string; url: string } };
    expect(hook.status).toBe(201);
    const w = await openPage(browser);
    const { page } = w;
    await operatorSignIn(page);
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Product scopes", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Product scopes" }).waitFor();
    await page.getByLabel("Scope name").fill("Not A Scope");
    await page.getByRole("button", { name: "Add scope" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("resource:action");
    await page.getByLabel("Scope name").fill(scope);
    await page.getByRole("button", { name: "Add scope" }).click();
    await page.getByText(`${scope} is added.`).waitFor();
    const added = (await api("GET", "/admin/scopes", { admin: true })).body.data as { name: string }[];
    expect(added.map((s) => s.name)).toEqual([...before.map((s) => s.name), scope]);
    await axeClean(page, "Product scopes");
    await page.getByRole("button", { name: `Remove ${scope}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await page.getByText(`${scope} is removed.`).waitFor();
    expect((await api("GET", "/admin/scopes", { admin: true })).body.data).toEqual(before);

    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Operator endpoints", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Operator endpoints" }).waitFor();
    await page.getByRole("switch", { name: `Enabled: ${hook.body.url}` }).click();
    await expect.poll(async () => (await api("GET", `/admin/webhooks/${hook.body.id}`, { admin: true })).body.isEnabled).toBe(false);
    await axeClean(page, "Operator endpoints");
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("every operator screen: axe-clean, no sideways scrolling at 375 px", async () => {
    const t = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${t.tenantId}`, { admin: true })).body as { name: string };
    await must("POST", "/v1/keys", t.key, { name: "a-key-with-a-rather-long-name-for-a-phone", scopes: ["keys:read"] });
    const w = await openPage(browser, { width: 375, height: 740 });
    const { page } = w;
    await operatorSignIn(page);
    for (const screen of ["Product scopes", "Event catalog", "Gateway", "Operator endpoints", "Operator audit log", "Tenants"]) {
      await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: screen, exact: true }).click();
      await page.getByRole("heading", { level: 1, name: screen, exact: true }).waitFor();
      await settled(page);
      await axeClean(page, `${screen} at 375 px`);
      expect(await scrollsSideways(page), `${screen} scrolls sideways at 375 px`).toBe(false);
    }
    await openTenant(page, tenant.name);
    for (const tab of ["Settings", "API Keys", "Webhooks", "Delivery log", "Audit log"]) {
      await openTab(page, tab);
      await axeClean(page, `${tab} at 375 px`);
      expect(await scrollsSideways(page), `${tab} scrolls sideways at 375 px`).toBe(false);
      if (tab === "API Keys") await screenshot(page, "operator-tenant-keys-phone");
    }
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });
});
