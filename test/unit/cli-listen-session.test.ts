import { describe, expect, it } from "vitest";
import type { DeliveryMessage, ResultMessage } from "../../src/common/listen-protocol";
import type { ForwardResult } from "../../src/tools/cli/forward";
import { ListenSession, parseServerMessage } from "../../src/tools/cli/listen-session";

const READY = JSON.stringify({ type: "ready", sessionId: "lsn_1", secret: "whsec_abc", webhookId: "wh_1", events: ["a.b", "c.d"] });
const DELIVERY = {
  type: "delivery",
  deliveryId: "dlv_1",
  attempt: 3,
  eventId: "evt_1",
  eventType: "a.b",
  headers: { "content-type": "application/json" },
  body: '{"id":"evt_1"}',
};

/** A session with a scripted local endpoint, no sockets. */
function session(options: { printSecret?: boolean; resumed?: boolean; result?: ForwardResult } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const forwarded: DeliveryMessage[] = [];
  const replies: ResultMessage[] = [];
  const s = new ListenSession({
    forwardTo: "http://localhost:3000/hooks",
    ...options,
    forward: async (d) => {
      forwarded.push(d);
      return options.result ?? { status: 204, body: "", durationMs: 12 };
    },
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    now: () => new Date(2025, 0, 2, 9, 5, 7),
  });
  return { s, out, err, forwarded, replies, reply: (m: ResultMessage) => replies.push(m) };
}

describe("parseServerMessage", () => {
  it("reads the four message kinds", () => {
    expect(parseServerMessage(READY)).toEqual({
      type: "ready",
      sessionId: "lsn_1",
      secret: "whsec_abc",
      webhookId: "wh_1",
      events: ["a.b", "c.d"],
    });
    expect(parseServerMessage(JSON.stringify(DELIVERY))).toEqual(DELIVERY);
    expect(parseServerMessage('{"type":"replaced","message":"taken over"}')).toEqual({ type: "replaced", message: "taken over" });
    expect(parseServerMessage('{"type":"error","message":"nope","status":401}')).toEqual({ type: "error", message: "nope", status: 401 });
    expect(parseServerMessage('{"type":"error"}')).toEqual({ type: "error", message: "The server ended the session." });
    // The keepalive's answer: no line, no exit.
    expect(parseServerMessage('{"type":"pong"}')).toEqual({ type: "pong" });
  });

  it("ignores what it cannot use, saying why", () => {
    expect(parseServerMessage(new Uint8Array([1]))).toEqual({ type: "ignored", why: "a binary frame" });
    expect(parseServerMessage("{")).toEqual({ type: "ignored", why: "not JSON" });
    expect(parseServerMessage("[1]")).toEqual({ type: "ignored", why: "not a JSON object" });
    expect(parseServerMessage('{"type":"ready"}').type).toBe("ignored");
    expect(parseServerMessage(JSON.stringify({ ...DELIVERY, attempt: "1" })).type).toBe("ignored");
    expect(parseServerMessage(JSON.stringify({ ...DELIVERY, headers: { a: 1 } })).type).toBe("ignored");
    expect(parseServerMessage('{"type":"later"}')).toEqual({ type: "ignored", why: 'an unknown message type "later"' });
  });
});

describe("ListenSession", () => {
  it("ready: prints the session, what it forwards where, and the secret", () => {
    const { s, out } = session();
    expect(s.handle(READY, () => {})).toEqual({ kind: "continue" });
    expect(out).toEqual([
      "Ready! Session lsn_1: forwarding a.b, c.d to http://localhost:3000/hooks (Ctrl-C to quit)",
      "Signing secret: whsec_abc",
    ]);
    expect(s.keptLine()).toBe("session lsn_1 kept for 10 minutes: hookgate listen --session lsn_1 to resume");
  });

  it("ready without event filters says all events", () => {
    const { s, out } = session();
    s.handle(JSON.stringify({ type: "ready", sessionId: "lsn_1", secret: "whsec_abc", events: ["*"] }), () => {});
    expect(out[0]).toContain("forwarding all events to");
  });

  it("a delivery is forwarded, answered with the attempt's result, and printed as one line", async () => {
    const { s, out, forwarded, replies, reply } = session({ result: { status: null, body: null, durationMs: 10_001, error: "timeout" } });
    s.handle(READY, reply);
    expect(s.handle(JSON.stringify(DELIVERY), reply)).toEqual({ kind: "continue" });
    await s.idle();
    expect(forwarded).toEqual([DELIVERY]);
    expect(replies).toEqual([
      { type: "result", deliveryId: "dlv_1", attempt: 3, status: null, body: null, durationMs: 10_001, error: "timeout" },
    ]);
    expect(out.at(-1)).toBe("09:05:07  a.b  evt_1  attempt 3  timeout  10001 ms");
  });

  it("a successful result carries no error field", async () => {
    const { s, replies, reply, out } = session();
    s.handle(JSON.stringify(DELIVERY), reply);
    await s.idle();
    expect(replies[0]).toEqual({ type: "result", deliveryId: "dlv_1", attempt: 3, status: 204, body: "", durationMs: 12 });
    expect(out.at(-1)).toBe("09:05:07  a.b  evt_1  attempt 3  204  12 ms");
  });

  it("replaced and error end the run (0 and 1), in one line", () => {
    expect(session().s.handle('{"type":"replaced","message":"Taken over\\nby another CLI"}', () => {})).toEqual({
      kind: "exit",
      code: 0,
      message: "Taken over by another CLI",
    });
    expect(session().s.handle('{"type":"error","message":"Invalid API key","status":401}', () => {})).toEqual({
      kind: "exit",
      code: 1,
      message: "401 Invalid API key",
    });
  });

  it("printSecret: the secret alone on stdout, then stop; a new session's id on stderr", () => {
    const fresh = session({ printSecret: true });
    expect(fresh.s.handle(READY, () => {})).toEqual({ kind: "exit", code: 0 });
    expect(fresh.out).toEqual(["whsec_abc"]);
    expect(fresh.err).toEqual(["session lsn_1 kept for 10 minutes: hookgate listen --session lsn_1 to resume"]);
    const resumed = session({ printSecret: true, resumed: true });
    resumed.s.handle(READY, () => {});
    expect(resumed.err).toEqual([]);
  });

  it("a second ready for the same session is a reconnect; for another, a warning about the new secret", () => {
    const { s, out, err } = session();
    s.handle(READY, () => {});
    s.handle(READY, () => {});
    expect(out.at(-1)).toBe("Reconnected to session lsn_1.");
    s.handle(JSON.stringify({ type: "ready", sessionId: "lsn_2", secret: "whsec_new", events: [] }), () => {});
    expect(err.at(-1)).toContain("session lsn_1 has expired");
    expect(out.at(-1)).toBe("Signing secret: whsec_new");
    expect(s.readyCount).toBe(3);
  });
});
