import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTools, DIST } from "../../scripts/build-tools.mjs";
import { verifyWebhook } from "../../src/tools/verify/index";
import { api, baseUrl, createTenant } from "./client";
import { startReceiver, until } from "./receiver";

/** The built `hookgate` CLI against the e2e `wrangler dev`, as a developer runs it. */
const BIN = path.join(DIST, "cli/hookgate.js");

function hookgate(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("hookgate trigger (against wrangler dev)", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let key: string;
  let webhook: { id: string; secret: string };
  beforeAll(async () => {
    await buildTools({ declarations: false });
    receiver = await startReceiver();
    key = (await createTenant()).key.key;
    expect((await api("POST", "/v1/event-types", { key, body: { name: "cli.tested" } })).status).toBe(201);
    const hook = await api("POST", "/v1/webhooks", { key, body: { url: `${receiver.url}/cli`, eventTypes: ["cli.tested"] } });
    expect(hook.status).toBe(201);
    webhook = hook.body;
  }, 60_000);
  afterAll(() => receiver?.close());

  it("publishes the event, prints its id and deliveries, and the delivery verifies with hookgate/verify", async () => {
    const res = await hookgate(["trigger", "cli.tested", "--data", '{"n":1,"note":"Zoë ✓"}'], {
      HOOKGATE_URL: baseUrl(),
      HOOKGATE_API_KEY: key,
    });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    const [eventId] = lines[0]!.split("  ");
    expect(lines[0]).toMatch(/^evt_\w+ {2}cli\.tested {2}1 delivery$/);
    expect(lines[1]).toMatch(new RegExp(`^dlv_\\w+  ${webhook.id}  (pending|succeeded)$`));

    const event = await api("GET", `/v1/events/${eventId}`, { key });
    expect(event.body).toMatchObject({ id: eventId, type: "cli.tested", data: { n: 1, note: "Zoë ✓" } });

    const got = await until("the delivery", () => receiver.received.find((r) => r.path === "/cli"));
    const verified = await verifyWebhook({ secret: webhook.secret, headers: got.headers, body: got.body });
    expect(verified).toMatchObject({ id: eventId, type: "cli.tested", data: { n: 1, note: "Zoë ✓" } });
  });

  it("--data defaults to {}", async () => {
    const res = await hookgate(["trigger", "cli.tested", "--url", baseUrl(), "--api-key", key], {});
    expect(res.code).toBe(0);
    const eventId = res.stdout.split("  ")[0]!;
    expect((await api("GET", `/v1/events/${eventId}`, { key })).body.data).toEqual({});
  });

  it("a refused key: one line naming 401 and why, non-zero exit, nothing on stdout", async () => {
    const res = await hookgate(["trigger", "cli.tested"], { HOOKGATE_URL: baseUrl(), HOOKGATE_API_KEY: "hg_not_a_real_key_at_all" });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/^hookgate: 401 [a-z_]+: \S.*\n$/);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("an event type outside the catalog: the API's refusal, in one line", async () => {
    const res = await hookgate(["trigger", "no.such.type"], { HOOKGATE_URL: baseUrl(), HOOKGATE_API_KEY: key });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^hookgate: 4\d\d [a-z_]+: \S.*\n$/);
  });

  it("invalid JSON for --data: one line, and no request", async () => {
    const before = (await api("GET", "/v1/events?type=cli.tested", { key })).body.data.length;
    const res = await hookgate(["trigger", "cli.tested", "--data", "{n:1}"], { HOOKGATE_URL: baseUrl(), HOOKGATE_API_KEY: key });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^hookgate: --data is not valid JSON: [^\n]+\n$/);
    expect((await api("GET", "/v1/events?type=cli.tested", { key })).body.data.length).toBe(before);
  });
});

describe("hookgate listen refused (against wrangler dev)", () => {
  let key: string;
  beforeAll(async () => {
    await buildTools({ declarations: false });
    key = (await createTenant()).key.key;
  }, 60_000);

  it("--events naming a type outside the catalog: the server's 422 and its detail, in one line, exit 1", async () => {
    const res = await hookgate(["listen", "--forward-to", "http://127.0.0.1:9/x", "--events", "no.such.type"], {
      HOOKGATE_URL: baseUrl(),
      HOOKGATE_API_KEY: key,
    });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/^hookgate: 422 [a-z_]+: [^\n]*no\.such\.type is not in the event catalog[^\n]*\n$/);
    // Nothing was created for the refused session.
    const hooks = await api("GET", "/v1/webhooks", { key });
    expect(hooks.body.data.filter((w: any) => w.managedBy === "cli")).toEqual([]);
  });

  it("a key without webhooks:write: the server's 403, in one line", async () => {
    const reader = await api("POST", "/v1/keys", { key, body: { name: "reader", scopes: ["events:read"] } });
    expect(reader.status).toBe(201);
    const res = await hookgate(["listen", "--forward-to", "http://127.0.0.1:9/x"], {
      HOOKGATE_URL: baseUrl(),
      HOOKGATE_API_KEY: reader.body.key,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^hookgate: 403 [a-z_]+: [^\n]*webhooks:write[^\n]*\n$/);
  });
});
