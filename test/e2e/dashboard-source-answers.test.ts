import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { childEnv, ROOT, wranglerBin } from "../../scripts/local-env.mjs";
import { api, baseUrl } from "./client";
import { browserTenant, launchBrowser, must, openPage, pageSessionToken, signIn } from "./dashboard-browser";

/**
 * A signed-in dashboard tab sent, by a page on another site, to a source URL
 * whose answer tries script: the answer is plain text in a sandbox (an
 * opaque origin), so nothing runs and the dashboard's session cannot be
 * read. The same for a source stored as text/html before the answer types
 * were restricted (written straight into D1, as the API no longer takes it),
 * and for Meta's challenge echo.
 */

// If it ran: the stolen session token in the title, and a key minted with it.
const STEAL = `<script>
var s = JSON.parse(sessionStorage.getItem("hookgate.session"));
document.title = "stolen:" + s.token;
fetch("/v1/keys", { method: "POST", headers: { authorization: "Bearer " + s.token, "content-type": "application/json" },
  body: JSON.stringify({ name: "minted-by-script", scopes: ["keys:read"] }) });
</script>`;

let browser: Browser;
let attacker: Server;
let attackerUrl: string;

beforeAll(async () => {
  browser = await launchBrowser();
  // Another site: its page posts a form to whatever URL it is given, in the tab that opened it.
  attacker = createServer((req, res) => {
    const target = new URL(req.url ?? "/", "http://localhost").searchParams.get("to") ?? "";
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><title>prize</title>
<form method="POST" action="${target.replaceAll('"', "&quot;")}"><input name="amount" value="1"></form>
<script>document.forms[0].submit()</script>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  const address = attacker.address();
  if (!address || typeof address === "string") throw new Error("no address");
  attackerUrl = `http://localhost:${address.port}`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
});

/** Runs SQL on the instance's local D1, as `wrangler d1 execute --local` does. */
function d1(sql: string): void {
  const args = ["d1", "execute", "DB", "--local", "--persist-to", inject("persistTo"), "--command", sql];
  const res = spawnSync(wranglerBin(), args, { cwd: ROOT, env: childEnv({ CI: "true" }), encoding: "utf8" });
  if (res.status !== 0) throw new Error(`wrangler d1 execute failed (${res.status}):\n${res.stdout}${res.stderr}`);
}

/** What the tab can do where it landed: nothing of the dashboard's origin is within reach. */
async function landed(page: Page) {
  await page.waitForLoadState("load");
  return page.evaluate(() => {
    const reach = (f: () => unknown) => {
      try {
        return `read ${String(f())}`;
      } catch (e) {
        return (e as Error).name;
      }
    };
    return {
      title: document.title,
      origin: self.origin,
      storage: reach(() => sessionStorage.getItem("hookgate.session")),
      cookie: reach(() => document.cookie),
      text: document.body?.textContent ?? "",
      scripts: document.scripts.length,
    };
  });
}

describe("a tenant's answer on Hookgate's origin cannot run script", { timeout: 180_000 }, () => {
  it("a form post from another site to a source answering <script> as text/plain, or stored as text/html, or Meta's echo", async () => {
    const { key } = await browserTenant();
    await must("POST", "/v1/event-types", key, { name: "order.created" });
    const plain = await must("POST", "/v1/sources", key, {
      name: "plain",
      eventType: "order.created",
      response: { status: 200, body: STEAL, contentType: "text/plain" },
    });
    const legacy = await must("POST", "/v1/sources", key, {
      name: "legacy",
      eventType: "order.created",
      response: { status: 200, body: STEAL, contentType: "text/plain" },
    });
    const meta = await must("POST", "/v1/sources", key, {
      name: "meta",
      eventType: "order.created",
      verification: { scheme: "meta", secret: "app-secret", verifyToken: "vt" },
    });
    // The API refuses text/html now; a row saved before that is written as it was.
    expect(
      (await api("PATCH", `/v1/sources/${legacy.id}`, { key, body: { response: { status: 200, contentType: "text/html" } } })).status,
    ).toBe(422);
    const stored = JSON.stringify({ status: 200, body: STEAL, contentType: "text/html; charset=utf-8" }).replaceAll("'", "''");
    d1(`UPDATE sources SET response = '${stored}' WHERE id = '${legacy.id}'`);

    const w = await openPage(browser);
    const { page } = w;
    await signIn(page, key);
    const token = await pageSessionToken(page);
    expect(token).toBeTruthy();

    for (const source of [plain, legacy]) {
      await page.goto(`${attackerUrl}/?to=${encodeURIComponent(source.url)}`);
      await page.waitForURL(source.url);
      const where = await landed(page);
      expect(where.title).not.toContain("stolen");
      expect(where.origin).toBe("null");
      expect(where.storage).toBe("SecurityError");
      expect(where.cookie).toBe("SecurityError");
      expect(where.scripts).toBe(0);
      // The script is shown as the text it is.
      expect(where.text).toContain('sessionStorage.getItem("hookgate.session")');

      // Back on the dashboard, the session is still there and still the tab's alone.
      await page.goto(`${baseUrl()}/dashboard`);
      await page.getByRole("button", { name: "Sign out" }).waitFor();
      expect(await pageSessionToken(page)).toBe(token);
    }

    const challenge = encodeURIComponent(STEAL);
    await page.goto(`${meta.url}?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=${challenge}`);
    const echoed = await landed(page);
    expect(echoed).toMatchObject({ origin: "null", storage: "SecurityError", scripts: 0 });
    expect(echoed.title).not.toContain("stolen");

    // Nothing was minted with the session.
    const keys = await must("GET", "/v1/keys", key);
    expect(keys.data.map((k: { name: string }) => k.name)).not.toContain("minted-by-script");
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  });
});
