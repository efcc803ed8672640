// The Integrations page, flow by flow as the seeds' help pages walk a user through them, in Chromium.
import { createHmac } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, baseUrl } from "./client";
import {
  browserTenant,
  foreignRequests,
  launchBrowser,
  must,
  openPage,
  openScreen,
  realErrors,
  SCREENSHOTS,
  screenshot,
  scrollsSideways,
  seriousViolations,
  settled,
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

const DOCS = path.resolve(import.meta.dirname, "../../docs/screenshots");

/** A screenshot kept with the docs as well as with the test results. */
async function documented(page: Page, name: string) {
  await screenshot(page, name);
  mkdirSync(DOCS, { recursive: true });
  copyFileSync(path.join(SCREENSHOTS, `${name}.png`), path.join(DOCS, `${name}.png`));
}

async function accessible(page: Page, what: string) {
  expect(await seriousViolations(page), what).toEqual([]);
  expect(await scrollsSideways(page), `${what} scrolls sideways`).toBe(false);
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tag = () => Math.random().toString(36).slice(2, 8);

/** Adds a product scope to the operator's list (keeping every other one). */
async function productScope(name: string, description: string) {
  const listed = await api("GET", "/admin/scopes", { admin: true });
  const others = (listed.body.data as { name: string; description: string | null }[]).filter((s) => s.name !== name);
  const res = await api("PUT", "/admin/scopes", {
    admin: true,
    body: { scopes: [...others.map((s) => ({ name: s.name, description: s.description })), { name, description }] },
  });
  if (res.status !== 200) throw new Error(`product scopes: ${res.status} ${JSON.stringify(res.body)}`);
}

describe("the Integrations page, in Chromium", { timeout: 180_000 }, () => {
  it("header: the tenant's name, API docs and Sign out; API Keys: a key with a product scope and an allowlist, shown once, its prefix copied, revoked and found under Revoked", async () => {
    const { tenantId, key, keyId } = await browserTenant();
    const tenant = (await api("GET", `/admin/tenants/${tenantId}`, { admin: true })).body;
    const scope = `reports${tag()}:read`;
    await productScope(scope, "Read the product's reports");
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    const header = page.getByRole("banner");
    await expect.poll(() => header.textContent()).toContain(tenant.name);
    expect(await header.textContent()).not.toContain(tenantId);
    expect(await header.getByRole("link", { name: "API docs" }).getAttribute("href")).toBe("/docs");
    // The key this session signed in with was used a moment ago: not "Never".
    await settled(page);
    const own = page.getByRole("row", { name: /this session's key/ });
    expect(await own.getByRole("cell").nth(3).textContent()).not.toBe("Never");

    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Reporting");
    const scopeBox = page.getByRole("checkbox", { name: new RegExp(scope.replace(":", "\\:")) });
    await scopeBox.waitFor();
    expect(await page.getByText("Read the product's reports").count()).toBe(1);
    expect(await page.getByRole("checkbox", { name: /^api:write/ }).count()).toBe(1);
    await scopeBox.check();
    await page.getByLabel("IP allowlist (optional)").fill("127.0.0.1/32\n::1/128\n");
    await page.getByLabel("Expires (optional)").fill("2031-06-30");
    await accessible(page, "Create key form");
    await documented(page, "keys-create");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByRole("region", { name: /New key Reporting/ });
    const value = await secret.getByRole("textbox").inputValue();
    expect(value).toMatch(/^hg_live_/);
    const created = (
      (await must("GET", "/v1/keys", key)).data as { name: string; scopes: string[]; ipAllowlist: string[]; expiresAt: string }[]
    ).find((k) => k.name === "Reporting")!;
    expect(created.scopes).toContain(scope);
    expect(created.ipAllowlist).toEqual(["127.0.0.1/32", "::1/128"]);
    expect(created.expiresAt).toBe("2031-06-30T23:59:59.000Z");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(value);

    const row = page.getByRole("row", { name: /Reporting/ });
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells[1]).toBe(`${value.slice(0, 12)}…${value.slice(-4)}`);
    expect(cells[3]).toBe("Never");
    expect(cells[5]).toBe("Active");
    await row.getByRole("button", { name: "Copy prefix" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(value.slice(0, 12));
    await accessible(page, "API Keys");
    await documented(page, "keys");

    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog", { name: "Revoke Reporting?" }).getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => page.getByRole("row", { name: /Reporting/ }).count()).toBe(0);
    await page.getByLabel("Revoked").check();
    const revoked = page.getByRole("row", { name: /Reporting/ });
    await revoked.waitFor();
    expect((await revoked.getByRole("cell").allTextContents())[5]).toBe("Revoked");
    expect(await revoked.getByRole("button", { name: "Revoke" }).count()).toBe(0);
    expect((await api("GET", "/v1/whoami", { key: value })).status).toBe(401);

    // The audit log names who did it, with the id beside the name.
    await openScreen(page, "Audit log");
    const entry = page.getByRole("row", { name: /key\.revoked/ });
    expect(await entry.getByRole("cell").nth(3).textContent()).toBe(`Default key${keyId}`);
    await accessible(page, "Audit log");
    expect(realErrors(w)).toEqual([]);
    expect(foreignRequests(w.requests)).toEqual([]);
    await w.context.close();
  });

  it("OAuth clients: Create client shows the secret once with Copy; Delete asks first", async () => {
    const { key } = await browserTenant();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await openScreen(page, "OAuth clients");
    await page.getByRole("button", { name: "Create client" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Reporting backend");
    await page.getByRole("button", { name: "Create client" }).click();
    const secret = page.getByRole("region", { name: /Client secret for Reporting backend/ });
    const value = await secret.getByRole("textbox").inputValue();
    await secret.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    const [client] = (await must("GET", "/v1/oauth-clients", key)).data as { clientId: string }[];
    const token = await fetch(`${baseUrl()}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client!.clientId}:${value}`)}` },
      body: "grant_type=client_credentials",
    });
    expect(token.status).toBe(200);
    await page.getByRole("button", { name: "Done" }).click();
    const row = page.getByRole("row", { name: /Reporting backend/ });
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells[1]).toBe(client!.clientId);
    expect(cells[2]).toContain("keys:read");
    expect(cells[4]).toBe("Never");
    await accessible(page, "OAuth clients");
    await documented(page, "oauth-clients");

    await row.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete Reporting backend?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await row.count()).toBe(1);
    await row.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.getByRole("row", { name: /Reporting backend/ }).count()).toBe(0);
    expect((await must("GET", "/v1/oauth-clients", key)).data).toEqual([]);
    await w.context.close();
  });

  it("Add endpoint with Verify, Form Data, a custom header and field; a delivery carries them; Edit, disable, Deliveries, Delete", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid", description: "An invoice was paid" });
    const url = `${receiver.url}/hook-${tag()}`;
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await openScreen(page, "Webhooks");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByRole("radio", { name: "Form Data" }).check();
    await page.getByLabel("Custom headers: name 1").fill("X-Team");
    await page.getByLabel("Custom headers: value 1").fill("blue");
    await page.getByRole("button", { name: "Add field" }).click();
    await page.getByLabel("Custom fields: name 1").fill("plan");
    await page.getByLabel("Custom fields: value 1").fill("pro");
    await page.getByLabel("Custom fields: name 2").fill("region");
    await page.getByLabel("Custom fields: value 2").fill("eu");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(/^Verified: the endpoint answered 200 in \d+ ms$/).waitFor();
    const verification = receiver.received.find((r) => r.path === new URL(url).pathname)!;
    expect(verification.headers["x-webhook-event-type"]).toBe("webhook.verification");
    expect(verification.headers["x-team"]).toBe("blue");
    expect(new URLSearchParams(verification.body).get("plan")).toBe("pro");
    await page.getByLabel("Description").fill("Billing sync");
    await page.getByRole("checkbox", { name: /invoice\.paid/ }).check();
    expect(await page.getByText("An invoice was paid").count()).toBe(1);
    await accessible(page, "Add endpoint form");
    await documented(page, "webhooks-add-endpoint");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByRole("region", { name: `Signing secret for ${url}` }).waitFor();
    await page.getByRole("button", { name: "Done" }).click();

    const card = page.getByRole("article", { name: url });
    await card.waitFor();
    expect(await card.textContent()).toContain("1 event type: invoice.paid");
    expect(await card.textContent()).toContain("Form Data");
    const event = await must("POST", "/v1/events", key, { type: "invoice.paid", data: { amount: 12 } });
    const delivered = await until("the delivery", async () =>
      receiver.received.find((r) => r.path === new URL(url).pathname && r.headers["x-webhook-event-id"] === event.id),
    );
    expect(delivered.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(delivered.headers["x-team"]).toBe("blue");
    const form = new URLSearchParams(delivered.body);
    expect([form.get("plan"), form.get("region"), JSON.parse(form.get("data")!)]).toEqual(["pro", "eu", { amount: 12 }]);

    await card.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("form", { name: `Edit ${url}` });
    expect(await edit.getByLabel("Description").inputValue()).toBe("Billing sync");
    expect(await edit.getByLabel("Custom headers: name 1").inputValue()).toBe("X-Team");
    await edit.getByLabel("Description").fill("Billing sync (edited)");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => card.textContent()).toContain("Billing sync (edited)");
    // The header, untouched in the form, still goes out.
    const hook = (await must("GET", "/v1/webhooks", key)).data[0];
    expect(Object.keys(hook.headers)).toEqual(["X-Team"]);

    await card.getByRole("switch").uncheck();
    await expect.poll(() => card.textContent()).toContain("Disabled");
    await accessible(page, "Webhooks");
    await documented(page, "webhooks");

    await card.getByRole("link", { name: "Deliveries" }).click();
    await page.getByRole("heading", { level: 1, name: "Delivery log" }).waitFor();
    await settled(page);
    // The filter's options arrive with the endpoints' list: poll until it shows the one opened.
    await expect.poll(() => page.getByLabel("Endpoint").inputValue()).toBe(hook.id);
    expect(await page.getByRole("row").count()).toBe(2);

    await openScreen(page, "Webhooks");
    await card.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog", { name: "Delete this endpoint?" }).getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.getByRole("article", { name: url }).count()).toBe(0);
    expect((await must("GET", "/v1/webhooks", key)).data).toEqual([]);
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("a failed delivery opens from anywhere on its row (and from the keyboard) and says when the next retry is due", async () => {
    const { key } = await browserTenant({ retrySchedule: ["30m"] });
    await must("POST", "/v1/event-types", key, { name: "invoice.paid" });
    const url = `${receiver.url}/fail-${tag()}`;
    const hook = await must("POST", "/v1/webhooks", key, { url, eventTypes: ["invoice.paid"] });
    await must("POST", "/v1/events", key, { type: "invoice.paid", data: { amount: 1 } });
    await until("a failed first attempt", async () => {
      const [d] = (await must("GET", `/v1/deliveries?webhookId=${hook.id}`, key)).data;
      return d?.attemptCount >= 1 && d.nextAttemptAt ? d : undefined;
    });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await openScreen(page, "Delivery log");
    const row = page.getByRole("row", { name: /invoice\.paid/ });
    expect((await row.getByRole("cell").allTextContents())[3]).toMatch(/^Retrying/);
    await row.getByRole("cell").nth(2).click();
    await page.getByRole("heading", { level: 1, name: /^Delivery dlv_/ }).waitFor();
    await page.getByText(/^Retrying: next attempt due /).waitFor();
    const retry = page.getByRole("button", { name: "Retry" });
    expect(await retry.isDisabled()).toBe(true);
    expect(await page.locator(".retry-why").textContent()).toMatch(/still pending/);
    const attempt = page.getByRole("list", { name: "Attempts" }).getByRole("listitem").first();
    expect(await attempt.textContent()).toContain("X-Webhook-Attempt: 1");
    expect(await attempt.textContent()).toContain('"amount": 1');
    expect(await attempt.textContent()).toContain("nope");
    await accessible(page, "Delivery");
    await documented(page, "delivery-retrying");

    await page.getByRole("button", { name: "← Delivery log" }).click();
    await settled(page);
    await page
      .getByRole("row", { name: /invoice\.paid/ })
      .getByRole("button")
      .focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: /^Delivery dlv_/ }).waitFor();
    await w.context.close();
  });

  it("Incoming webhooks: an hmac source with a mapping, its URL once, a signed request in its log, and Replay", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid" });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await openScreen(page, "Incoming webhooks");
    await page.getByRole("button", { name: "Add source" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Billing");
    await page.getByLabel("Event type").fill("invoice.paid");
    const schemes = await page
      .getByLabel("Verification scheme")
      .locator("option")
      .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(schemes.filter(Boolean).sort()).toEqual(
      ["hmac", "stripe", "github", "meta", "shopify", "slack", "standard-webhooks", "twilio", "basic", "api-key"].sort(),
    );
    await page.getByLabel("Verification scheme").selectOption("hmac");
    await page.getByLabel("Signing secret").fill("billing-secret");
    await page.getByLabel("Signature header").fill("X-Signature");
    await page.getByLabel("Prefix (optional)").fill("sha256=");
    await page.getByLabel("Mapping (optional)").fill('{"amount": "{{trigger.total}}", "from": "{{headers.x-sender}}"}');
    await accessible(page, "Add source form");
    await documented(page, "incoming-add-source");
    await page.getByRole("button", { name: "Add source" }).click();
    const region = page.getByRole("region", { name: "The source's URL" });
    const sourceUrl = await region.getByRole("textbox").inputValue();
    await region.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(sourceUrl);
    const body = JSON.stringify({ total: 12 });
    const signature = `sha256=${createHmac("sha256", "billing-secret").update(body).digest("hex")}`;
    const sent = await fetch(sourceUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": signature, "x-sender": "billing" },
      body,
    });
    expect(sent.status).toBe(202);
    const { eventId } = (await sent.json()) as { eventId: string };
    expect((await must("GET", `/v1/events/${eventId}`, key)).data).toEqual({ amount: 12, from: "billing" });
    await page.getByRole("button", { name: "Done" }).click();

    const source = page.getByRole("row", { name: /Billing/ });
    expect(await source.getByRole("cell").nth(2).textContent()).toBe("hmac");
    await source.getByRole("button", { name: "Request log" }).click();
    await page.getByRole("heading", { level: 1, name: "Request log: Billing" }).waitFor();
    await settled(page);
    await page.getByRole("heading", { name: /accepted → 202$/ }).waitFor();
    await page.getByRole("button", { name: "Replay" }).click();
    await page.getByText(/^Replayed: published as evt_/).waitFor();
    await accessible(page, "Request log");
    await documented(page, "incoming-request-log");
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("Usage lists the tenant's alerts under Alerts, in words: a key's first 429 shows as Rate limited", async () => {
    const { key } = await browserTenant();
    const limited = await must("POST", "/v1/keys", key, {
      name: "tight-key",
      scopes: ["keys:read"],
      rateLimits: { read: { limit: 1, windowSeconds: 60 } },
    });
    expect((await api("GET", "/v1/whoami", { key: limited.key })).status).toBe(200);
    expect((await api("GET", "/v1/whoami", { key: limited.key })).status).toBe(429);
    // Raised by the key's object after the answer: wait until it is in the tenant's events.
    await until("the rate_limited alert", async () => {
      const r = await api("GET", "/v1/events?type=hookgate.credential.rate_limited", { key });
      return r.body.data?.some((e: { data: { credentialId: string } }) => e.data.credentialId === limited.id) || undefined;
    });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    await openScreen(page, "Usage");
    await page.getByRole("heading", { level: 2, name: "Alerts" }).waitFor();
    // Its limit_approaching (1 of 1 used) is listed too: one row of each.
    await page.getByRole("row").filter({ hasText: "Rate limited" }).filter({ hasText: limited.id }).waitFor();
    await page.getByRole("row").filter({ hasText: "Limit approaching" }).filter({ hasText: limited.id }).waitFor();
    expect(await page.locator("main").textContent()).not.toContain("hookgate.");
    await accessible(page, "Usage with alerts");
    await documented(page, "usage-alerts");
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });

  it("at 375 px: the forms and the new screens fit, with no serious axe violation", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "invoice.paid", description: "An invoice was paid", schema: { type: "object" } });
    const w = await openPage(browser, { width: 375, height: 740 });
    const { page } = w;
    await signIn(page, key);
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("checkbox", { name: /^keys:read/ }).waitFor();
    await accessible(page, "Create key at 375 px");
    await documented(page, "phone-create-key");
    await openScreen(page, "Webhooks");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.getByRole("checkbox", { name: /invoice\.paid/ }).waitFor();
    await accessible(page, "Add endpoint at 375 px");
    await openScreen(page, "Incoming webhooks");
    await page.getByRole("button", { name: "Add source" }).click();
    await page.getByLabel("Verification scheme").selectOption("hmac");
    await accessible(page, "Add source at 375 px");
    for (const screen of ["OAuth clients", "Event types"]) {
      await openScreen(page, screen);
      await accessible(page, `${screen} at 375 px`);
    }
    const row = page.getByRole("row", { name: /invoice\.paid/ });
    expect(await row.getByRole("cell").nth(2).textContent()).toBe("You");
    await row.getByText("Schema").click();
    expect(await row.locator("pre").textContent()).toContain('"object"');
    expect(realErrors(w)).toEqual([]);
    await w.context.close();
  });
});
