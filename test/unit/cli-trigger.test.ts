import { describe, expect, it } from "vitest";
import { run } from "../../src/tools/cli/run";
import { testIO } from "./cli-io";

const ENV = { HOOKGATE_URL: "https://hg.example.com", HOOKGATE_API_KEY: "hg_live_key" };
const PUBLISHED = {
  id: "evt_2Jd8",
  type: "invoice.paid",
  createdAt: "2025-06-15T12:00:00.000Z",
  data: { amount: 42 },
  deliveries: [
    { id: "dlv_a", webhookId: "wh_1", status: "pending", attemptCount: 0, lastAttemptAt: null, lastStatusCode: null },
    {
      id: "dlv_b",
      webhookId: "wh_2",
      status: "succeeded",
      attemptCount: 1,
      lastAttemptAt: "2025-06-15T12:00:00.100Z",
      lastStatusCode: 200,
    },
  ],
};

/** A CliIO whose fetch is a scripted API: records requests, answers with `answer`. */
function api(answer: (req: Request, body: any) => Response | Promise<Response>, env: Record<string, string> = ENV, files = {}) {
  const t = testIO(env, files);
  const requests: { req: Request; body: any }[] = [];
  t.io.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const text = await req.clone().text();
    const body = text ? JSON.parse(text) : undefined;
    requests.push({ req, body });
    return answer(req, body);
  }) as typeof fetch;
  return { ...t, requests };
}

const json = (status: number, body: unknown, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
const problem = (status: number, code: string, detail: string, extra = {}) =>
  json(
    status,
    { type: `https://hookgate.dev/problems/${code}`, title: "x", status, code, detail, requestId: "req_1", ...extra },
    "application/problem+json",
  );

describe("hookgate trigger", () => {
  it("publishes the event with the key, and prints its id and one line per delivery", async () => {
    const t = api(() => json(202, PUBLISHED));
    await expect(run(["trigger", "invoice.paid", "--data", '{"amount":42}'], t.io)).resolves.toBe(0);
    const { req, body } = t.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe("https://hg.example.com/v1/events");
    expect(req.headers.get("authorization")).toBe("Bearer hg_live_key");
    expect(req.headers.get("content-type")).toContain("application/json");
    expect(body).toEqual({ type: "invoice.paid", data: { amount: 42 } });
    expect(t.out).toEqual(["evt_2Jd8  invoice.paid  2 deliveries", "dlv_a  wh_1  pending", "dlv_b  wh_2  succeeded"]);
    expect(t.err).toEqual([]);
  });

  it("data defaults to {}; --url and --api-key win over the environment; --idempotency-key is sent", async () => {
    const t = api(() => json(202, { ...PUBLISHED, deliveries: [] }));
    const argv = ["trigger", "ping", "--url", "http://127.0.0.1:8787/", "--api-key", "hg_other", "--idempotency-key", "order-1"];
    await expect(run(argv, t.io)).resolves.toBe(0);
    const { req, body } = t.requests[0]!;
    expect(req.url).toBe("http://127.0.0.1:8787/v1/events");
    expect(req.headers.get("authorization")).toBe("Bearer hg_other");
    expect(req.headers.get("idempotency-key")).toBe("order-1");
    expect(body).toEqual({ type: "ping", data: {} });
    expect(t.out).toEqual(["evt_2Jd8  invoice.paid  0 deliveries"]);
    expect(t.err).toEqual(["hookgate: no enabled subscription takes invoice.paid, so nothing was delivered"]);
  });

  it("--data @file reads the JSON from a file", async () => {
    const t = api(() => json(202, PUBLISHED), ENV, { "payload.json": '{"amount": 7}' });
    await expect(run(["trigger", "invoice.paid", "--data", "@payload.json"], t.io)).resolves.toBe(0);
    expect(t.requests[0]!.body.data).toEqual({ amount: 7 });
    const missing = api(() => json(202, PUBLISHED));
    await expect(run(["trigger", "invoice.paid", "--data", "@nope.json"], missing.io)).resolves.toBe(1);
    expect(missing.err).toEqual(["hookgate: cannot read nope.json: ENOENT: no such file, open 'nope.json'"]);
  });

  it("invalid JSON for --data is one line, and nothing is sent", async () => {
    const t = api(() => json(202, PUBLISHED));
    await expect(run(["trigger", "invoice.paid", "--data", "{amount: 42}"], t.io)).resolves.toBe(2);
    expect(t.err).toHaveLength(1);
    expect(t.err[0]).toMatch(/^hookgate: --data is not valid JSON: /);
    expect(t.requests).toEqual([]);
  });

  it("a refused key: 401 <code>: <detail>, exit 1", async () => {
    const t = api(() => problem(401, "unauthorized", "Unknown or revoked API key"));
    await expect(run(["trigger", "invoice.paid"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: 401 unauthorized: Unknown or revoked API key"]);
    expect(t.out).toEqual([]);
  });

  it("validation errors name their fields; a missing scope is named", async () => {
    const invalid = api(() =>
      problem(422, "validation_failed", "Invalid request", { errors: [{ path: "data.amount", message: "must be a number" }] }),
    );
    await expect(run(["trigger", "invoice.paid"], invalid.io)).resolves.toBe(1);
    expect(invalid.err).toEqual(["hookgate: 422 validation_failed: Invalid request (data.amount: must be a number)"]);
    const repeated = api(() =>
      problem(422, "validation_failed", "type: a.b is not in the event catalog", {
        errors: [{ path: "type", message: "a.b is not in the event catalog" }],
      }),
    );
    await expect(run(["trigger", "a.b"], repeated.io)).resolves.toBe(1);
    expect(repeated.err).toEqual(["hookgate: 422 validation_failed: type: a.b is not in the event catalog"]);
    const scope = api(() => problem(403, "insufficient_scope", "This credential lacks a scope", { requiredScope: "events:write" }));
    await expect(run(["trigger", "invoice.paid"], scope.io)).resolves.toBe(1);
    expect(scope.err).toEqual(["hookgate: 403 insufficient_scope: This credential lacks a scope (needs events:write)"]);
  });

  it("an answer that is not a problem document still makes one line", async () => {
    const t = api(() => new Response("<html>\n<h1>Bad gateway</h1>\n</html>", { status: 502, statusText: "Bad Gateway" }));
    await expect(run(["trigger", "invoice.paid"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: 502 Bad Gateway: <html> <h1>Bad gateway</h1> </html>"]);
  });

  it("Ctrl-C while the request is in flight: exit 130, saying the outcome is unknown", async () => {
    const t = api(
      (req) =>
        new Promise<Response>((_, reject) => req.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    );
    const done = run(["trigger", "invoice.paid"], t.io);
    await new Promise((r) => setTimeout(r, 20));
    t.interrupt();
    await expect(done).resolves.toBe(130);
    expect(t.err).toEqual(["hookgate: interrupted; the event may or may not have been published"]);
  });

  it("an unreachable deployment: one line", async () => {
    const t = testIO({ HOOKGATE_URL: "http://127.0.0.1:39999", HOOKGATE_API_KEY: "k" });
    await expect(run(["trigger", "invoice.paid"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: cannot reach http://127.0.0.1:39999: connection refused"]);
  });
});

describe("hookgate: arguments and configuration", () => {
  it("--help and --version print and exit 0; no command prints usage and exits 2", async () => {
    for (const argv of [["--help"], ["help"], ["trigger", "--help"], ["-h"]]) {
      const t = testIO();
      await expect(run(argv, t.io)).resolves.toBe(0);
      expect(t.out[0]).toMatch(/^hookgate \d+\.\d+\.\d+: /);
      expect(t.out[0]).toContain("hookgate listen --forward-to <url>");
    }
    const v = testIO();
    await expect(run(["--version"], v.io)).resolves.toBe(0);
    expect(v.out).toEqual([expect.stringMatching(/^\d+\.\d+\.\d+$/)]);
    const none = testIO();
    await expect(run([], none.io)).resolves.toBe(2);
  });

  it("usage mistakes are one line, exit 2", async () => {
    const cases: [string[], string][] = [
      [["deploy"], 'unknown command "deploy" (commands: trigger, listen)'],
      [["trigger"], "hookgate trigger takes exactly one event type, e.g. hookgate trigger invoice.paid"],
      [["trigger", "a.b", "c.d"], "hookgate trigger takes exactly one event type, e.g. hookgate trigger invoice.paid"],
      [["trigger", "a.b", "--bogus"], "unknown option --bogus (see hookgate --help)"],
      [["trigger", "a.b", "--data"], "--data needs a value"],
      [["trigger", "a.b", "--forward-to", "http://x"], "hookgate trigger takes no --forward-to"],
      [["listen"], "hookgate listen needs --forward-to <url>, e.g. http://localhost:3000/webhooks"],
      [
        ["listen", "--forward-to", "localhost:3000"],
        '--forward-to must be an http(s) URL: "localhost:3000" (did you mean http://localhost:3000?)',
      ],
      [["listen", "--forward-to", "ftp://x/y"], '--forward-to must be an http(s) URL: "ftp://x/y"'],
      [["listen", "--forward-to", "http://x", "--events", " , "], "--events needs event types, e.g. --events invoice.paid,invoice.failed"],
      [["listen", "--forward-to", "http://x", "--session", "whsec_abc"], '--session takes a session id (lsn_…), not "whsec_abc"'],
      [["listen", "--print-secret", "extra"], 'hookgate listen takes no arguments (got "extra")'],
      [["listen", "--print-secret", "--data", "{}"], "hookgate listen takes no --data"],
    ];
    for (const [argv, message] of cases) {
      const t = testIO(ENV);
      await expect(run(argv, t.io), argv.join(" ")).resolves.toBe(2);
      expect(t.err, argv.join(" ")).toEqual([`hookgate: ${message}`]);
    }
  });

  it("says which setting is missing or wrong", async () => {
    const noUrl = testIO({ HOOKGATE_API_KEY: "k" });
    await expect(run(["trigger", "a.b"], noUrl.io)).resolves.toBe(2);
    expect(noUrl.err).toHaveLength(1);
    expect(noUrl.err[0]).toBe("hookgate: HOOKGATE_URL is not set: export HOOKGATE_URL=https://hookgate.example.com, or pass --url");
    const noKey = testIO({ HOOKGATE_URL: "http://127.0.0.1:8787" });
    await expect(run(["trigger", "a.b"], noKey.io)).resolves.toBe(2);
    expect(noKey.err[0]).toBe("hookgate: HOOKGATE_API_KEY is not set: export HOOKGATE_API_KEY=<a tenant API key>, or pass --api-key");
    const badUrl = testIO({ HOOKGATE_URL: "127.0.0.1:8787", HOOKGATE_API_KEY: "k" });
    await expect(run(["trigger", "a.b"], badUrl.io)).resolves.toBe(2);
    expect(badUrl.err[0]).toBe('hookgate: HOOKGATE_URL must be an http(s) URL: "127.0.0.1:8787" (did you mean http://127.0.0.1:8787?)');
  });
});
