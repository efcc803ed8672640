import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type ListenOptions, listen, listenUrl } from "../../src/tools/cli/listen";
import { run } from "../../src/tools/cli/run";
import { startFakeListenServer } from "./cli-fake-ws";
import { testIO, until } from "./cli-io";

const KEY = "hg_test_3kT9Qx7bLmNp2RsVwYz1";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ready = (sessionId = "lsn_abc123", events = ["invoice.paid"]) => ({
  type: "ready",
  sessionId,
  secret: SECRET,
  webhookId: "wh_cli1",
  events,
});
const delivery = (n = 1, attempt = 1) => ({
  type: "delivery",
  deliveryId: `dlv_${n}`,
  attempt,
  eventId: `evt_${n}`,
  eventType: "invoice.paid",
  headers: {
    "Content-Type": "application/json",
    "User-Agent": "Hookgate/0.1.0",
    "X-Webhook-Event-Id": `evt_${n}`,
    "X-Webhook-Signature": "t=1,v1=abc",
    "webhook-id": `evt_${n}`,
    Host: "example.com",
    "Content-Length": "999",
  },
  body: JSON.stringify({ id: `evt_${n}`, type: "invoice.paid", createdAt: "2025-06-15T12:00:00.000Z", data: { n, note: "Zoë ✓" } }),
});

type Received = { headers: IncomingMessage["headers"]; body: string; method: string };

/** The local endpoint `--forward-to` points at. */
async function startReceiver(answer: (req: Received, res: ServerResponse) => void = (_, res) => res.end("ok")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), method: req.method ?? "" };
      received.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}/webhooks`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function setup(options: Parameters<typeof startFakeListenServer>[0] = {}, answer?: Parameters<typeof startReceiver>[0]) {
  const server = await startFakeListenServer(options);
  const receiver = await startReceiver(answer);
  cleanups.push(server.close, receiver.close);
  const t = testIO();
  const start = (extra: Partial<ListenOptions> = {}) =>
    listen({ baseUrl: server.url, apiKey: KEY, forwardTo: receiver.url, closeWaitMs: 500, ...extra }, t.io);
  return { server, receiver, ...t, start };
}

describe("listenUrl", () => {
  it("is the ws(s) URL of /v1/listen with events and session, keeping a path prefix, never the key", () => {
    expect(listenUrl("http://127.0.0.1:8787", ["a.b", "c.d"], "lsn_1")).toBe("ws://127.0.0.1:8787/v1/listen?events=a.b,c.d&session=lsn_1");
    expect(listenUrl("https://hg.example.com/hookgate/", undefined, undefined)).toBe("wss://hg.example.com/hookgate/v1/listen");
  });
});

describe("hookgate listen", () => {
  it("connects with the key in the Authorization header, prints the session and secret, forwards deliveries and answers with results", async () => {
    const { server, receiver, out, err, interrupt, start } = await setup();
    const done = start({ events: ["invoice.paid", "invoice.failed"] });
    const conn = await server.connection();
    expect(conn.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(conn.url.pathname).toBe("/v1/listen");
    expect(conn.url.searchParams.get("events")).toBe("invoice.paid,invoice.failed");
    expect(conn.url.search).not.toContain(KEY);

    conn.send(ready("lsn_abc123", ["invoice.paid", "invoice.failed"]));
    await until("ready lines", () => out.length >= 2);
    expect(out[0]).toContain("lsn_abc123");
    expect(out[0]).toContain("invoice.paid, invoice.failed");
    expect(out[0]).toContain(receiver.url);
    expect(out[1]).toBe(`Signing secret: ${SECRET}`);

    const d = delivery(1, 2);
    conn.send(d);
    const result = await conn.nextMessage();
    expect(result).toEqual({ type: "result", deliveryId: "dlv_1", attempt: 2, status: 200, body: "ok", durationMs: expect.any(Number) });
    expect(result.error).toBeUndefined();

    // The local endpoint got what Hookgate would have sent: same body, same headers (but those fetch sets itself).
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.method).toBe("POST");
    expect(got.body).toBe(d.body);
    expect(got.headers["x-webhook-signature"]).toBe("t=1,v1=abc");
    expect(got.headers["webhook-id"]).toBe("evt_1");
    expect(got.headers["user-agent"]).toBe("Hookgate/0.1.0");
    expect(got.headers.host).toBe(new URL(receiver.url).host);
    expect(got.headers["content-length"]).toBe(String(Buffer.byteLength(d.body)));

    await until("the delivery line", () => out.length >= 3);
    expect(out[2]).toMatch(/^12:00:01 {2}invoice\.paid {2}evt_1 {2}attempt 2 {2}200 {2}\d+ ms$/);

    interrupt();
    await expect(done).resolves.toBe(0);
    expect(conn.clientClose?.code).toBe(1000);
    expect(out.at(-1)).toBe("session lsn_abc123 kept for 10 minutes: hookgate listen --session lsn_abc123 to resume");
    expect(err).toEqual([]);
  });

  it("reports the local endpoint's failures as the attempt's: http (body capped at 4 KiB), redirect, timeout, connection", async () => {
    const big = "é".repeat(5000); // 10 000 bytes
    const { server, out, interrupt, start } = await setup({}, (req, res) => {
      const n = JSON.parse(req.body).data.n;
      if (n === 1) res.writeHead(500).end(big);
      else if (n === 2) res.writeHead(302, { location: "/elsewhere" }).end();
      // n === 3: never answers
    });
    const done = start({ forwardTimeoutMs: 300 });
    const conn = await server.connection();
    conn.send(ready());
    conn.send(delivery(1));
    const r1 = await conn.nextMessage();
    expect(r1).toMatchObject({ deliveryId: "dlv_1", status: 500, error: "http" });
    expect(Buffer.byteLength(r1.body)).toBeLessThanOrEqual(4096);
    expect(r1.body).toBe("é".repeat(2048));

    conn.send(delivery(2));
    expect(await conn.nextMessage()).toMatchObject({ deliveryId: "dlv_2", status: 302, error: "redirect" });

    conn.send(delivery(3));
    const r3 = await conn.nextMessage();
    expect(r3).toMatchObject({ deliveryId: "dlv_3", status: null, body: null, error: "timeout" });
    expect(r3.durationMs).toBeGreaterThanOrEqual(250);
    await until("three delivery lines", () => out.length >= 5);
    expect(out[4]).toMatch(/attempt 1 {2}timeout \(no answer within 0.3 s\)/);

    interrupt();
    await done;
  });

  it("a local endpoint that refuses connections is a `connection` error", async () => {
    const { server, out, interrupt, start } = await setup();
    const done = start({ forwardTo: "http://127.0.0.1:39999/webhooks" });
    const conn = await server.connection();
    conn.send(ready());
    conn.send(delivery(1));
    expect(await conn.nextMessage()).toMatchObject({ deliveryId: "dlv_1", status: null, body: null, error: "connection" });
    await until("the delivery line", () => out.length >= 3);
    expect(out[2]).toContain("connection (connection refused)");
    interrupt();
    await done;
  });

  it("forwards deliveries concurrently: a slow one does not hold up the next", async () => {
    const { server, interrupt, start } = await setup({}, (req, res) => {
      const n = JSON.parse(req.body).data.n;
      setTimeout(() => res.end(`done ${n}`), n === 1 ? 400 : 0);
    });
    const done = start();
    const conn = await server.connection();
    conn.send(ready());
    conn.send(delivery(1));
    conn.send(delivery(2));
    expect((await conn.nextMessage()).deliveryId).toBe("dlv_2");
    expect((await conn.nextMessage()).deliveryId).toBe("dlv_1");
    interrupt();
    await done;
  });

  it("pings while idle, and a pong is no line", async () => {
    const { server, out, err, start } = await setup();
    const done = start({ pingEveryMs: 30 });
    const conn = await server.connection();
    conn.send(ready());
    expect(await conn.nextMessage()).toEqual({ type: "ping" });
    conn.send({ type: "pong" });
    conn.send({ type: "replaced", message: "bye" });
    await expect(done).resolves.toBe(0);
    expect(err).toEqual([]);
    expect(out.at(-1)).toBe("bye");
  });

  it("`replaced`: prints the server's message and exits 0", async () => {
    const { server, out, start } = await setup();
    const done = start();
    const conn = await server.connection();
    conn.send(ready());
    conn.send({ type: "replaced", message: "Another hookgate listen took over session lsn_abc123." });
    conn.close(4000, "replaced");
    await expect(done).resolves.toBe(0);
    expect(out.at(-1)).toBe("Another hookgate listen took over session lsn_abc123.");
  });

  it("`error`: one line with the status, exit 1", async () => {
    const server = await startFakeListenServer({
      onConnection: (c) => c.send({ type: "error", status: 403, message: "needs webhooks:write" }),
    });
    cleanups.push(server.close);
    const t = testIO({ HOOKGATE_URL: server.url, HOOKGATE_API_KEY: KEY });
    await expect(run(["listen", "--forward-to", "http://127.0.0.1:1/x"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: 403 needs webhooks:write"]);
  });

  it("--print-secret: prints the secret alone, closes with 1000 and exits 0; a new session's id goes to stderr", async () => {
    const { server, out, err, start } = await setup();
    const done = start({ printSecret: true, forwardTo: undefined });
    const conn = await server.connection();
    conn.send(ready("lsn_new"));
    await expect(done).resolves.toBe(0);
    expect(out).toEqual([SECRET]);
    expect(err).toEqual(["session lsn_new kept for 10 minutes: hookgate listen --session lsn_new to resume"]);
    await conn.closed;
    expect(conn.clientClose?.code).toBe(1000);
  });

  it("--print-secret --session: asks for that session, prints its secret and nothing else", async () => {
    const { server, out, err, start } = await setup();
    const done = start({ printSecret: true, forwardTo: undefined, session: "lsn_old" });
    const conn = await server.connection();
    expect(conn.url.searchParams.get("session")).toBe("lsn_old");
    conn.send(ready("lsn_old"));
    await expect(done).resolves.toBe(0);
    expect(out).toEqual([SECRET]);
    expect(err).toEqual([]);
  });

  it("a connection closed before the session is ready is an error", async () => {
    const server = await startFakeListenServer({ onConnection: (c) => c.close(1011, "internal error") });
    cleanups.push(server.close);
    const t = testIO({ HOOKGATE_URL: server.url, HOOKGATE_API_KEY: KEY });
    await expect(run(["listen", "--forward-to", "http://127.0.0.1:1/x"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: the server closed the connection before the session was ready (code 1011: internal error)"]);
  });

  it("a dropped connection is reopened on the same session; results never cross to the new connection", async () => {
    let answerSlowly: (() => void) | undefined;
    const { server, out, err, interrupt, start } = await setup({}, (req, res) => {
      if (JSON.parse(req.body).data.n === 1) answerSlowly = () => res.end("late");
      else res.end("ok");
    });
    const done = start({ reconnect: { firstDelayMs: 20 } });
    const first = await server.connection(0);
    first.send(ready("lsn_keep"));
    first.send(delivery(1));
    await until("the slow delivery to reach the endpoint", () => answerSlowly !== undefined);
    first.drop();

    const second = await server.connection(1);
    expect(second.url.searchParams.get("session")).toBe("lsn_keep");
    expect(second.headers.authorization).toBe(`Bearer ${KEY}`);
    second.send(ready("lsn_keep"));
    await until("the reconnect line", () => out.includes("Reconnected to session lsn_keep."));
    expect(err.some((line) => /connection lost \(code 1006\); reconnecting in 20 ms/.test(line))).toBe(true);

    answerSlowly!(); // the first connection's delivery finishes now: its result has nowhere to go
    second.send(delivery(2));
    expect(await second.nextMessage()).toMatchObject({ deliveryId: "dlv_2", status: 200 });
    await new Promise((r) => setTimeout(r, 50));
    expect(second.received.map((m) => m.deliveryId)).toEqual(["dlv_2"]);
    interrupt();
    await expect(done).resolves.toBe(0);
  });

  it("gives up once the session would have expired, and says so", async () => {
    const server = await startFakeListenServer();
    const t = testIO();
    const done = listen(
      {
        baseUrl: server.url,
        apiKey: KEY,
        forwardTo: "http://127.0.0.1:1/x",
        reconnect: { firstDelayMs: 10, maxDelayMs: 20, giveUpAfterMs: 150 },
      },
      t.io,
    );
    const conn = await server.connection();
    conn.send(ready("lsn_gone"));
    await until("ready", () => t.out.length >= 2);
    await server.close(); // the deployment goes away for good
    await expect(done).rejects.toThrow(/could not reconnect to session lsn_gone within 150 ms; it has expired/);
    expect(t.err.some((line) => line.includes("could not reconnect: cannot reach"))).toBe(true);
  });

  it("Ctrl-C while waiting to reconnect exits 0 with the resume line", async () => {
    const { server, out, interrupt, start } = await setup();
    const done = start({ reconnect: { firstDelayMs: 60_000 } });
    const conn = await server.connection();
    conn.send(ready("lsn_wait"));
    await until("ready", () => out.length >= 2);
    conn.drop();
    await new Promise((r) => setTimeout(r, 100));
    interrupt();
    await expect(done).resolves.toBe(0);
    expect(out.at(-1)).toBe("session lsn_wait kept for 10 minutes: hookgate listen --session lsn_wait to resume");
  });

  it("a new session after an expired one is announced with its new secret", async () => {
    const { server, out, err, interrupt, start } = await setup();
    const done = start({ reconnect: { firstDelayMs: 10 } });
    (await server.connection(0)).send(ready("lsn_one"));
    await until("ready", () => out.length >= 2);
    server.connections[0]!.drop();
    const second = await server.connection(1);
    second.send({ ...ready("lsn_two"), secret: "whsec_other" });
    await until("the new ready lines", () => out.includes("Signing secret: whsec_other"));
    expect(err.some((l) => l.includes("session lsn_one has expired"))).toBe(true);
    interrupt();
    await done;
  });

  it("skips messages it does not know, with a warning, and keeps going", async () => {
    const { server, err, interrupt, start } = await setup();
    const done = start();
    const conn = await server.connection();
    conn.send(ready());
    conn.send({ type: "stats", pending: 3 });
    conn.send("not json");
    conn.send({ type: "delivery", deliveryId: "dlv_x" });
    conn.send(delivery(7));
    expect(await conn.nextMessage()).toMatchObject({ deliveryId: "dlv_7", status: 200 });
    expect(err).toEqual([
      'hookgate: ignored an unknown message type "stats" from the server',
      "hookgate: ignored not JSON from the server",
      "hookgate: ignored a delivery message missing fields from the server",
    ]);
    interrupt();
    await done;
  });
});
