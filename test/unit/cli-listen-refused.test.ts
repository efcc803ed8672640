import type { Duplex } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../../src/tools/cli/listen";
import { run } from "../../src/tools/cli/run";
import { startFakeListenServer } from "./cli-fake-ws";
import { testIO, until } from "./cli-io";

/**
 * `hookgate listen` when the server says no: the answer to the upgrade request itself (status and
 * problem document), in one line, never a second, plain GET (which the server answers 426).
 */
const KEY = "hg_test_3kT9Qx7bLmNp2RsVwYz1";
const ready = (sessionId = "lsn_abc123") => ({ type: "ready", sessionId, secret: "whsec_x", webhookId: "wh_cli1", events: ["a.b"] });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("hookgate listen, refused", () => {
  const problem = (status: number, code: string, detail: string) => ({ status, body: { status, code, detail } });
  it.each([
    [problem(401, "unauthorized", "Unknown API key"), "401 unauthorized: Unknown API key"],
    [
      { status: 403, body: { status: 403, code: "insufficient_scope", detail: "This key lacks a scope", requiredScope: "webhooks:write" } },
      "403 insufficient_scope: This key lacks a scope (needs webhooks:write)",
    ],
    [problem(404, "not_found", "No route for GET /v1/listen"), "404 not_found: No route for GET /v1/listen"],
    [problem(409, "conflict", "The session is being closed"), "409 conflict: The session is being closed"],
    [
      {
        status: 422,
        body: {
          status: 422,
          code: "validation_failed",
          detail: "events: no.such is not in the event catalog",
          errors: [{ path: "events", message: "no.such is not in the event catalog" }],
        },
      },
      "422 validation_failed: events: no.such is not in the event catalog",
    ],
    [problem(429, "rate_limited", "Too many requests; retry in 3 s"), "429 rate_limited: Too many requests; retry in 3 s"],
    [problem(500, "internal_error", "Something went wrong (req_1)"), "500 internal_error: Something went wrong (req_1)"],
    [{ status: 502, body: "Bad gateway\n<hr>upstream down", contentType: "text/html" }, "502 Refused: Bad gateway <hr>upstream down"],
    [{ status: 503 }, "503 Refused"],
  ])("a refused upgrade (%#) is one line with the server's status and detail, exit 1", async (refusal, line) => {
    const server = await startFakeListenServer({ onUpgrade: () => refusal });
    cleanups.push(server.close);
    const t = testIO({ HOOKGATE_URL: server.url, HOOKGATE_API_KEY: KEY });
    await expect(run(["listen", "--forward-to", "http://127.0.0.1:1/x", "--events", "no.such"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual([`hookgate: ${line}`]);
    expect(t.out).toEqual([]);
    expect(server.upgrades).toHaveLength(1);
    expect(server.upgrades[0]?.url).toBe("/v1/listen?events=no.such");
    expect(server.upgrades[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(server.requests).toEqual([]); // no second request
  });

  it("an upgrade answered 101 without a valid handshake is one line, exit 1", async () => {
    const server = await startFakeListenServer();
    cleanups.push(server.close);
    // A listener in front of the fake's: answers 101 with a wrong Sec-WebSocket-Accept.
    server.raw.prependListener("upgrade", (_req, socket: Duplex) => {
      socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n");
    });
    const t = testIO({ HOOKGATE_URL: server.url, HOOKGATE_API_KEY: KEY });
    await expect(run(["listen", "--forward-to", "http://127.0.0.1:1/x"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual([
      `hookgate: the WebSocket to ${server.url}/v1/listen failed: the server answered the upgrade with a wrong Sec-WebSocket-Accept`,
    ]);
  });

  it("an unreachable deployment: one line, exit 1", async () => {
    const t = testIO({ HOOKGATE_URL: "http://127.0.0.1:39999", HOOKGATE_API_KEY: KEY });
    await expect(run(["listen", "--forward-to", "http://127.0.0.1:1/x"], t.io)).resolves.toBe(1);
    expect(t.err).toEqual(["hookgate: cannot reach http://127.0.0.1:39999: connection refused"]);
  });

  it("after a drop, a server that now refuses the key ends the run (no endless retries)", async () => {
    let refuse = false;
    const server = await startFakeListenServer({
      onUpgrade: () =>
        refuse ? { status: 401, body: { status: 401, code: "unauthorized", detail: "The API key was revoked" } } : undefined,
    });
    cleanups.push(server.close);
    const t = testIO();
    const done = listen({ baseUrl: server.url, apiKey: KEY, forwardTo: "http://127.0.0.1:1/x", reconnect: { firstDelayMs: 10 } }, t.io);
    const conn = await server.connection();
    conn.send(ready());
    await until("ready", () => t.out.length >= 2);
    refuse = true;
    conn.drop();
    await expect(done).rejects.toThrow("401 unauthorized: The API key was revoked");
  });

  it("after a drop, a refusal that may pass (503, 429) is retried, each time saying why", async () => {
    const refusals = [
      { status: 503, body: { status: 503, code: "unavailable", detail: "Restarting" } },
      { status: 429, body: { status: 429, code: "rate_limited", detail: "Too many requests" } },
    ];
    let refuse = false;
    const server = await startFakeListenServer({ onUpgrade: () => (refuse ? refusals.shift() : undefined) });
    cleanups.push(server.close);
    const t = testIO();
    const done = listen({ baseUrl: server.url, apiKey: KEY, forwardTo: "http://127.0.0.1:1/x", reconnect: { firstDelayMs: 10 } }, t.io);
    (await server.connection(0)).send(ready("lsn_back"));
    await until("ready", () => t.out.length >= 2);
    refuse = true;
    server.connections[0]!.drop();
    (await server.connection(1)).send(ready("lsn_back"));
    await until("the reconnect line", () => t.out.includes("Reconnected to session lsn_back."));
    expect(t.err).toEqual([
      "hookgate: connection lost (code 1006); reconnecting in 10 ms…",
      "hookgate: could not reconnect: 503 unavailable: Restarting; reconnecting in 20 ms…",
      "hookgate: could not reconnect: 429 rate_limited: Too many requests; reconnecting in 40 ms…",
    ]);
    t.interrupt();
    await expect(done).resolves.toBe(0);
  });
});
