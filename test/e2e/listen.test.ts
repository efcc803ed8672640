import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildTools, DIST } from "../../scripts/build-tools.mjs";
import { verifyWebhook } from "../../src/tools/verify/index";
import { api, baseUrl, createTenant } from "./client";
import { type Decide, startReceiver, until } from "./receiver";

/**
 * `hookgate listen` end to end: the built CLI against the e2e `wrangler dev` (retries 1, 2, 3,
 * 4 s), forwarding to a local app on 127.0.0.1, as a developer runs it.
 */
const BIN = path.join(DIST, "cli/hookgate.js");

type Listener = { child: ChildProcess; stdout: string[]; stderr: string[]; exited: Promise<number | null> };

const running = new Set<ChildProcess>();

function listen(args: string[], env: Record<string, string>): Listener {
  const child = spawn(process.execPath, [BIN, "listen", ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lines = (into: string[]) => {
    let partial = "";
    return (d: Buffer) => {
      const parts = (partial + d.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      into.push(...parts);
    };
  };
  child.stdout!.on("data", lines(stdout));
  child.stderr!.on("data", lines(stderr));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout, stderr, exited };
}

const line = (l: Listener, pattern: RegExp, what: string) => until(what, () => l.stdout.find((s) => pattern.test(s)), 30_000);

describe("hookgate listen (against wrangler dev)", () => {
  let key: string;
  let decide: Decide = () => "ok";
  let app: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    await buildTools({ declarations: false });
    app = await startReceiver((r, n) => decide(r, n));
    key = (await createTenant()).key.key;
    expect((await api("POST", "/v1/event-types", { key, body: { name: "listen.tested" } })).status).toBe(201);
  }, 60_000);
  afterEach(() => {
    for (const child of running) child.kill("SIGKILL");
    decide = () => "ok";
  });
  afterAll(() => app?.close());

  const env = () => ({ HOOKGATE_URL: baseUrl(), HOOKGATE_API_KEY: key });

  it("forwards signed deliveries to the local app, retries a local 500, and the delivery log shows the local answers", async () => {
    const cli = listen(["--forward-to", `${app.url}/local`, "--events", "listen.tested"], env());
    const ready = await line(cli, /^Ready! Session lsn_\w+/, "ready");
    const sessionId = /lsn_\w+/.exec(ready)![0];
    const secret = (await line(cli, /^Signing secret: whsec_/, "the secret")).replace("Signing secret: ", "");

    // Listed as the session's temporary subscription.
    const hooks = await api("GET", "/v1/webhooks", { key });
    const sub = hooks.body.data.find((w: any) => w.url === `cli:${sessionId}`);
    expect(sub).toMatchObject({ managedBy: "cli", eventTypes: ["listen.tested"] });

    // The first attempt answers 500 locally, the retry 200.
    decide = (_r, n) => (n === 1 ? "fail" : "ok");
    const trigger = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "trigger", "listen.tested", "--data", '{"n":1}'], {
        env: { PATH: process.env.PATH ?? "", ...env() },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", (code) => resolve({ code, out }));
    });
    expect(trigger.code).toBe(0);
    const eventId = trigger.out.split("  ")[0]!;
    expect(eventId).toMatch(/^evt_/);

    const got = await until("two requests at the local app", () => {
      const mine = app.received.filter((r) => r.path === "/local");
      return mine.length >= 2 ? mine : undefined;
    });
    const verified = await verifyWebhook({ secret, headers: got[1]!.headers, body: got[1]!.body });
    expect(verified).toMatchObject({ id: eventId, type: "listen.tested", data: { n: 1 } });
    expect(got.map((r) => r.headers["x-webhook-attempt"])).toEqual(["1", "2"]);

    const deliveryId = trigger.out.match(/dlv_\w+/)![0];
    const delivery = await until("the delivery to succeed", async () => {
      const d = await api("GET", `/v1/deliveries/${deliveryId}`, { key });
      return d.body.status === "succeeded" ? d.body : undefined;
    });
    expect(delivery.attempts.map((a: any) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, "http"],
      [2, 200, null],
    ]);
    await line(cli, new RegExp(`listen\\.tested  ${eventId}  attempt 2  200`), "the delivery line");
    expect(cli.stdout.some((s) => new RegExp(`listen\\.tested  ${eventId}  attempt 1  500`).test(s))).toBe(true);
  });

  it("kill the CLI, publish, come back with --session: what waited arrives, in order", async () => {
    const first = listen(["--forward-to", `${app.url}/resume`, "--events", "listen.tested"], env());
    const sessionId = /lsn_\w+/.exec(await line(first, /^Ready! Session lsn_\w+/, "ready"))![0];
    first.child.kill("SIGKILL");
    await first.exited;
    // The server notices the dropped socket; then three events wait for the session.
    await new Promise((r) => setTimeout(r, 1000));
    const events: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await api("POST", "/v1/events", { key, body: { type: "listen.tested", data: { n } } });
      expect(res.status).toBe(202);
      events.push(res.body.id);
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(app.received.filter((r) => r.path === "/resume")).toEqual([]);

    const second = listen(["--forward-to", `${app.url}/resume`, "--session", sessionId], env());
    await line(second, new RegExp(`^Ready! Session ${sessionId}`), "the resumed session");
    const got = await until("the waiting deliveries", () => {
      const mine = app.received.filter((r) => r.path === "/resume");
      return mine.length >= 3 ? mine : undefined;
    });
    expect(got.map((r) => JSON.parse(r.body).id)).toEqual(events);
  });

  it("--print-secret prints the secret and exits; a refused key is one 401 line", async () => {
    const printed = listen(["--print-secret"], env());
    expect(await printed.exited).toBe(0);
    expect(printed.stdout.filter((s) => s !== "")).toEqual([expect.stringMatching(/^whsec_/)]);

    const refused = listen(["--forward-to", `${app.url}/x`], { HOOKGATE_URL: baseUrl(), HOOKGATE_API_KEY: "hg_not_a_real_key_at_all" });
    expect(await refused.exited).toBe(1);
    expect(refused.stderr.filter((s) => s !== "")).toEqual([expect.stringMatching(/^hookgate: 401 [a-z_]+: \S/)]);
  });
});
