import { createHmac } from "node:crypto";
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
  screenshot,
  settled,
  signIn,
} from "./dashboard-browser";
import { startReceiver, until } from "./receiver";

let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  browser = await launchBrowser();
  // `/ok...` answers 202 "ok"; `/fail...` answers 500 "nope".
  receiver = await startReceiver((r) => (r.path.startsWith("/fail") ? 500 : 202));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
});

/** A tenant with the invoice.paid type and two endpoints on the receiver: one that accepts, one that fails. */
async function setup() {
  const t = await browserTenant();
  await must("POST", "/v1/event-types", t.key, {
    name: "invoice.paid",
    description: "An invoice was paid",
    schema: { type: "object", properties: { amount: { type: "number" } } },
  });
  const tag = Math.random().toString(36).slice(2, 8);
  const ok = await must("POST", "/v1/webhooks", t.key, { url: `${receiver.url}/ok-${tag}`, eventTypes: ["invoice.paid"] });
  const failing = await must("POST", "/v1/webhooks", t.key, { url: `${receiver.url}/fail-${tag}`, eventTypes: ["invoice.paid"] });
  return { ...t, ok: ok as { id: string; url: string }, failing: failing as { id: string; url: string } };
}

const card = (page: Page, url: string) => page.getByRole("article", { name: url });

async function deliveriesOf(key: string, webhookId: string) {
  return (await must("GET", `/v1/deliveries?webhookId=${webhookId}`, key)).data as { id: string; status: string; attemptCount: number }[];
}

describe("dashboard: webhooks and the delivery log, in Chromium", { timeout: 120_000 }, () => {
  it("Webhooks: URL, status and event types; the enable switch turns the endpoint off and on (the API agrees)", async () => {
    const s = await setup();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Webhooks");
    const ok = card(page, s.ok.url);
    await ok.waitFor();
    await expect.poll(() => ok.textContent()).toContain("Enabled");
    expect(await ok.textContent()).toContain("invoice.paid");
    const toggle = ok.getByRole("switch", { name: "Enabled" });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.click();
    await expect.poll(async () => (await must("GET", `/v1/webhooks/${s.ok.id}`, s.key)).isEnabled).toBe(false);
    await expect.poll(() => ok.textContent()).toContain("Disabled turned off");
    expect(await ok.getByRole("switch", { name: "Enabled" }).isChecked()).toBe(false);
    await ok.getByRole("switch", { name: "Enabled" }).click();
    await expect.poll(async () => (await must("GET", `/v1/webhooks/${s.ok.id}`, s.key)).isEnabled).toBe(true);
    await expect.poll(() => ok.getByRole("switch", { name: "Enabled" }).isChecked()).toBe(true);
    expect(foreignRequests(w.requests)).toEqual([]);
    await w.context.close();
  });

  it("Send test shows the receiver's status code and response body", async () => {
    const s = await setup();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Webhooks");
    const seen = receiver.received.length;
    await card(page, s.ok.url).getByRole("button", { name: "Send test" }).click();
    const result = card(page, s.ok.url).getByRole("status");
    await expect.poll(() => result.textContent()).toMatch(/Status 202 in \d+ ms — delivered/);
    expect(await card(page, s.ok.url).getByRole("status").locator("pre").textContent()).toBe("ok");
    const sent = receiver.received.slice(seen).find((r) => r.path === new URL(s.ok.url).pathname);
    expect(sent?.headers["x-webhook-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    await card(page, s.failing.url).getByRole("button", { name: "Send test" }).click();
    await expect.poll(() => card(page, s.failing.url).getByRole("status").textContent()).toMatch(/Status 500 in \d+ ms — failed/);
    expect(await card(page, s.failing.url).getByRole("status").locator("pre").textContent()).toBe("nope");
    await screenshot(page, "webhooks-send-test");
    await w.context.close();
  });

  it("Rotate secret asks to confirm and shows the new secret once; the next delivery is signed with it", async () => {
    const s = await setup();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Webhooks");
    const ok = card(page, s.ok.url);
    await ok.getByRole("button", { name: "Rotate secret" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate the signing secret?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    await ok.getByRole("button", { name: "Rotate secret" }).click();
    await dialog.getByRole("button", { name: "Rotate secret" }).click();
    const region = ok.getByRole("region", { name: `New signing secret for ${s.ok.url}` });
    const secret = await region.getByRole("textbox").inputValue();
    expect(secret).toMatch(/^whsec_/);

    const seen = receiver.received.length;
    await ok.getByRole("button", { name: "Send test" }).click();
    await expect.poll(() => ok.getByRole("status").filter({ hasText: "Status" }).textContent()).toMatch(/Status 202/);
    const sent = receiver.received.slice(seen).find((r) => r.path === new URL(s.ok.url).pathname)!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(sent.headers["x-webhook-signature"]))!;
    expect(v1).toBe(createHmac("sha256", secret).update(`${t}.${sent.body}`).digest("hex"));

    await region.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await card(page, s.ok.url).waitFor();
    expect(await page.content()).not.toContain(secret);
    expect(await card(page, s.ok.url).textContent()).toContain(secret.slice(-4));
    await w.context.close();
  });

  it("Add endpoint: its secret is shown once, and it is listed", async () => {
    const s = await setup();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Webhooks");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const url = `${receiver.url}/ok-added`;
    await page.getByLabel("Endpoint URL").fill(url);
    await page.getByLabel("invoice.paid").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const secret = await page
      .getByRole("region", { name: `Signing secret for ${url}` })
      .getByRole("textbox")
      .inputValue();
    expect(secret).toMatch(/^whsec_/);
    await card(page, url).waitFor();
    const listed = (await must("GET", "/v1/webhooks", s.key)).data as { url: string; eventTypes: string[] }[];
    expect(listed.find((h) => h.url === url)?.eventTypes).toEqual(["invoice.paid"]);
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(secret);
    await w.context.close();
  });

  it("the chart shows delivered vs failed over 24 h, and over 7 d", async () => {
    const s = await setup();
    for (let i = 0; i < 2; i++) await must("POST", "/v1/events", s.key, { type: "invoice.paid", data: { amount: i } });
    await until("both deliveries to the accepting endpoint", async () => {
      const d = await deliveriesOf(s.key, s.ok.id);
      return d.length === 2 && d.every((x) => x.status === "succeeded") ? true : undefined;
    });
    await until("a failed attempt of each failing delivery", async () => {
      const d = await deliveriesOf(s.key, s.failing.id);
      return d.length === 2 && d.every((x) => x.attemptCount >= 1) ? true : undefined;
    });
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Webhooks");
    const okChart = card(page, s.ok.url).getByRole("figure");
    await expect.poll(() => okChart.locator(".caption").textContent()).toBe("Delivered 2, failed 0 in the last 24 hours");
    expect(await okChart.locator("svg g").count()).toBe(24);
    const failChart = card(page, s.failing.url).getByRole("figure");
    await expect.poll(() => failChart.locator(".caption").textContent()).toMatch(/^Delivered 0, failed [2-9] in the last 24 hours$/);
    await okChart.getByRole("button", { name: "7 d" }).click();
    await expect.poll(() => okChart.locator(".caption").textContent()).toBe("Delivered 2, failed 0 in the last 7 days");
    expect(await okChart.getByRole("button", { name: "7 d" }).getAttribute("aria-pressed")).toBe("true");
    expect(await okChart.locator("svg g").count()).toBe(7);
    await screenshot(page, "webhooks-chart");
    await w.context.close();
  });

  it("Delivery log: filters, a row per delivery, every attempt with request and response, and Retry", async () => {
    const s = await setup();
    const event = await must("POST", "/v1/events", s.key, { type: "invoice.paid", data: { amount: 4200 } });
    await until("the delivery to the accepting endpoint", async () =>
      (await deliveriesOf(s.key, s.ok.id)).some((d) => d.status === "succeeded") ? true : undefined,
    );
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Delivery log");
    const okRow = page.getByRole("row", { name: new RegExp(s.ok.url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")) });
    await okRow.waitFor();
    const cells = await okRow.getByRole("cell").allTextContents();
    expect(cells[1]).toBe("invoice.paid");
    expect(cells[2]).toBe(s.ok.url);
    expect(cells[3]).toBe("Succeeded");
    expect(cells[4]).toBe("202");
    expect(cells[5]).toMatch(/^\d+ ms$/);
    expect(await page.getByRole("row").count()).toBe(3);

    await page.getByLabel("Status").selectOption("succeeded");
    await expect.poll(() => page.getByRole("row").count()).toBe(2);
    expect(await page.getByLabel("Status").locator("option").allTextContents()).toEqual(["Any status", "Succeeded", "Failed", "Pending"]);
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Event type").selectOption("invoice.paid");
    await expect.poll(() => page.getByRole("row").count()).toBe(3);
    await screenshot(page, "delivery-log");

    await okRow.getByRole("button").click();
    await page.getByRole("heading", { level: 1, name: /^Delivery dlv_/ }).waitFor();
    await page.getByRole("heading", { name: /^Attempt 1: 202 in \d+ ms$/ }).waitFor();
    const attempt = page.getByRole("list", { name: "Attempts" }).getByRole("listitem").first();
    expect(await attempt.textContent()).toContain(`X-Webhook-Event-Id: ${event.id}`);
    expect(await attempt.textContent()).toContain('"amount": 4200');
    // Request headers, payload, response: shown, in that order.
    expect(await attempt.locator("pre").nth(2).textContent()).toBe("ok");
    await screenshot(page, "delivery-attempts");

    await page.getByRole("button", { name: "Retry" }).click();
    await page.getByText("Retry queued: one more attempt is on its way.").waitFor();
    await until("the retried attempt", async () => ((await deliveriesOf(s.key, s.ok.id))[0]!.attemptCount === 2 ? true : undefined));
    await page.getByRole("heading", { name: /^Attempt 2: 202 in \d+ ms$/ }).waitFor({ timeout: 15_000 });
    expect(realErrors(w)).toEqual([]);
    expect(foreignRequests(w.requests)).toEqual([]);
    await w.context.close();
  });

  it("Event types (name, description, schema), Sources (URL once, scheme, request log) and the Audit log", async () => {
    const s = await setup();
    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, s.key);
    await openScreen(page, "Event types");
    const row = page.getByRole("row", { name: /invoice\.paid/ });
    expect(await row.getByRole("cell").nth(1).textContent()).toBe("An invoice was paid");
    await row.getByText("Schema").click();
    expect(await row.locator("pre").textContent()).toContain('"amount"');

    await openScreen(page, "Incoming webhooks");
    await page.getByRole("button", { name: "Add source" }).click();
    await page.getByLabel("Name").fill("GitHub");
    await page.getByLabel("Event type").fill("invoice.paid");
    await page.getByLabel("Verification scheme").selectOption("github");
    await page.getByLabel("Signing secret").fill("it-is-a-secret");
    await page.getByRole("button", { name: "Add source" }).click();
    const sourceUrl = await page.getByRole("region", { name: "The source's URL" }).getByRole("textbox").inputValue();
    expect(sourceUrl).toMatch(new RegExp(`^${baseUrl()}/in/src_[A-Za-z0-9]+/[A-Za-z0-9]+$`));
    const body = JSON.stringify({ amount: 7 });
    const unsigned = await fetch(sourceUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(unsigned.status).toBe(401);
    const signature = `sha256=${createHmac("sha256", "it-is-a-secret").update(body).digest("hex")}`;
    const signed = await fetch(sourceUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": signature },
      body,
    });
    expect(signed.status).toBe(202);
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(sourceUrl);
    const source = page.getByRole("row", { name: /GitHub/ });
    expect(await source.getByRole("cell").nth(2).textContent()).toBe("github");
    await source.getByRole("button", { name: "Request log" }).click();
    await page.getByRole("heading", { level: 1, name: "Request log: GitHub" }).waitFor();
    await settled(page);
    await page.getByRole("heading", { name: /accepted → 202$/ }).waitFor();
    await page.getByRole("heading", { name: /rejected \(invalid_signature\) → 401$/ }).waitFor();
    await screenshot(page, "source-requests");

    await openScreen(page, "Audit log");
    const actions = await page.locator("tbody tr td:nth-child(2)").allTextContents();
    expect(actions).toEqual(
      expect.arrayContaining(["source.created", "webhook.created", "event_type.created", "dashboard.session_started"]),
    );
    expect(realErrors(w)).toEqual([]);
    expect(foreignRequests(w.requests)).toEqual([]);
    await w.context.close();
  });
});

describe("the delivery log's duration comes from the API", () => {
  it("GET /v1/deliveries carries the last attempt's duration", async () => {
    const s = await setup();
    await must("POST", "/v1/events", s.key, { type: "invoice.paid", data: { amount: 1 } });
    const done = await until("the delivery", async () => {
      const [d] = (await must("GET", `/v1/deliveries?webhookId=${s.ok.id}`, s.key)).data;
      return d?.status === "succeeded" ? d : undefined;
    });
    const detail = await api("GET", `/v1/deliveries/${done.id}`, { key: s.key });
    expect(done.lastDurationMs).toBe(detail.body.attempts.at(-1).durationMs);
  });
});
