import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, type BrowserContext, type Frame, type Page, chromium as playwright } from "playwright-core";
import { api, baseUrl } from "./client";

/**
 * A real Chromium for the dashboard's tests: the one @sparticuz/chromium
 * ships inside the npm registry (unpacked on first use), so a fresh machine
 * needs no system browser; CHROME_PATH points at a local Chrome instead.
 */
export const SCREENSHOTS = path.resolve(import.meta.dirname, "../../test-results/dashboard");
const AXE = readFileSync(path.resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"), "utf8");

// @sparticuz/chromium's flags suit AWS Lambda. Left out: the two that would switch off the very
// protections the tests check (same-origin policy, mixed content), and --single-process, with which
// the browser exits as soon as one test's context closes.
const LEFT_OUT = new Set(["--disable-web-security", "--allow-running-insecure-content", "--single-process"]);

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROME_PATH || (await chromium.executablePath());
  return playwright.launch({
    executablePath,
    headless: true,
    args: [
      ...chromium.args.filter((a) => !LEFT_OUT.has(a)),
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      // Third-party cookies blocked, as a privacy-minded browser (and Safari) does.
      "--test-third-party-cookie-phaseout",
    ],
  });
}

/** A page and what it did: every request it made, its errors, and any JS dialog (answered with dismiss). */
export type Watched = { context: BrowserContext; page: Page; requests: string[]; errors: string[]; dialogs: string[] };

export async function openPage(browser: Browser, viewport = { width: 1100, height: 800 }): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl() });
  const page = await context.newPage();
  const watched: Watched = { context, page, requests: [], errors: [], dialogs: [] };
  page.on("request", (r) => watched.requests.push(r.url()));
  page.on("pageerror", (e) => watched.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") watched.errors.push(m.text());
  });
  page.on("dialog", (d) => {
    watched.dialogs.push(d.message());
    void d.dismiss();
  });
  return watched;
}

/** Every request went to one of `origins` (the Worker's by default): nothing from a CDN or anywhere else. */
export function foreignRequests(requests: readonly string[], origins: readonly string[] = [baseUrl()]): string[] {
  return requests.filter((url) => !url.startsWith("data:") && !origins.some((o) => url.startsWith(`${o}/`)));
}

/** Errors other than the browser's own log line for an HTTP error status (a refused key is expected to log one). */
export const realErrors = (w: Watched) =>
  w.errors.filter((e) => !/^Failed to load resource: the server responded with a status of 4\d\d/.test(e));

export async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${baseUrl()}/dashboard`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** Goes to a screen by its link in the navigation, and waits for its heading. */
export async function openScreen(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation").getByRole("link", { name, exact: true }).click();
  await page.getByRole("heading", { level: 1, name, exact: true }).waitFor();
  await settled(page);
}

/** Waits until the screen shows what it loaded (no "Loading…" left in it). */
export const settled = (page: Page) => page.waitForFunction(() => !document.querySelector("main")?.textContent?.includes("Loading…"));

export type AxeViolation = { id: string; impact: string; help: string; nodes: { target: string[] }[] };

/**
 * axe-core run inside the page (evaluated through the DevTools protocol,
 * which the page's CSP does not govern): the serious and critical
 * violations of WCAG 2.1 A/AA and best practice.
 */
export async function seriousViolations(page: Page | Frame): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** True when the page is wider than the viewport (sideways scrolling). */
export const scrollsSideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth || document.body.scrollWidth > window.innerWidth);

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** A tenant for browser tests: rate limits roomy enough for a page that loads several lists per screen. */
export async function browserTenant(extra: Record<string, unknown> = {}) {
  const roomy = { read: { limit: 2000, windowSeconds: 60 }, write: { limit: 500, windowSeconds: 60 } };
  const name = `ui-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await api("POST", "/admin/tenants", { admin: true, body: { name, rateLimits: roomy, ...extra } });
  if (res.status !== 201) throw new Error(`create tenant: ${res.status} ${JSON.stringify(res.body)}`);
  return { tenantId: res.body.tenant.id as string, tenantName: name, key: res.body.key.key as string, keyId: res.body.key.id as string };
}

/** Calls the API with `key`, failing the test on an unexpected status. */
export async function must(method: string, path: string, key: string, body?: unknown, status = [200, 201, 202, 204]) {
  const res = await api(method, path, { key, body });
  if (!status.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The session token the page keeps for this tab (sessionStorage), or null. */
export const pageSessionToken = (page: Page) =>
  page.evaluate(() => {
    const raw = sessionStorage.getItem("hookgate.session");
    return raw ? (JSON.parse(raw) as { token: string }).token : null;
  });
