import { afterEach, describe, expect, it } from "vitest";
import type { SocketErrorEvent } from "../../src/tools/cli/io";
import { NodeWebSocket } from "../../src/tools/cli/websocket";
import { startFakeListenServer, type UpgradeDecision } from "./cli-fake-ws";
import { until } from "./cli-io";

/** The CLI's own WebSocket client (RFC 6455 over node:http) against a real server on 127.0.0.1. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Recorded = { open: number; messages: unknown[]; errors: SocketErrorEvent[]; close?: { code: number; reason: string } };

async function connect(onUpgrade?: () => UpgradeDecision) {
  const server = await startFakeListenServer(onUpgrade ? { onUpgrade } : {});
  cleanups.push(server.close);
  const socket = new NodeWebSocket(`${server.url.replace("http", "ws")}/v1/listen?events=a.b`, {
    headers: { authorization: "Bearer hg_k" },
  });
  const seen: Recorded = { open: 0, messages: [], errors: [] };
  socket.addEventListener("open", () => seen.open++);
  socket.addEventListener("message", (e) => seen.messages.push(e.data));
  socket.addEventListener("error", (e) => seen.errors.push(e));
  socket.addEventListener("close", (e) => (seen.close = e));
  const closed = () => until("the close event", () => seen.close !== undefined);
  return { server, socket, seen, closed };
}

/** An unmasked server frame. */
function frame(opcode: number, payload: Buffer | string, fin = true, extraFirstByte = 0): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const n = data.length;
  const first = (fin ? 0x80 : 0) | extraFirstByte | opcode;
  if (n < 126) return Buffer.concat([Buffer.from([first, n]), data]);
  if (n < 65536) return Buffer.concat([Buffer.from([first, 126, n >> 8, n & 0xff]), data]);
  const header = Buffer.alloc(10);
  header[0] = first;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(n), 2);
  return Buffer.concat([header, data]);
}

describe("NodeWebSocket", () => {
  it("handshakes with the given headers, and exchanges short, 16-bit and 64-bit long text messages, masked from the client", async () => {
    const { server, socket, seen } = await connect();
    const conn = await server.connection();
    expect(conn.url.pathname + conn.url.search).toBe("/v1/listen?events=a.b");
    expect(conn.headers).toMatchObject({ authorization: "Bearer hg_k", upgrade: "websocket", "sec-websocket-version": "13" });
    expect(conn.headers["sec-websocket-extensions"]).toBeUndefined();
    await until("open", () => seen.open === 1);
    expect(socket.readyState).toBe(1);

    const texts = ["Zoë ✓", "x".repeat(300), "y".repeat(70_000)];
    for (const text of texts) conn.send(text);
    await until("three messages", () => seen.messages.length === 3);
    expect(seen.messages).toEqual(texts);

    for (const text of texts) socket.send(JSON.stringify({ text }));
    await until("three frames from the client", () => conn.received.length === 3);
    expect(conn.received.map((m) => m.text)).toEqual(texts);
    expect(conn.frames.map((f) => f.masked)).toEqual([true, true, true]);
  });

  it("reassembles a fragmented message (a ping between its pieces is answered) and a frame split byte by byte", async () => {
    const { server, seen } = await connect();
    const conn = await server.connection();
    conn.writeRaw(Buffer.concat([frame(0x1, "Zo", false), frame(0x9, "are you there"), frame(0x0, "ë", false), frame(0x0, " ✓")]));
    await until("the message", () => seen.messages.length === 1);
    expect(seen.messages).toEqual(["Zoë ✓"]);
    expect(conn.frames).toMatchObject([{ opcode: 0xa, payload: Buffer.from("are you there") }]);

    const bytes = Buffer.concat([frame(0x1, "z".repeat(200)), frame(0x2, Buffer.from([1, 2, 3]))]);
    for (const byte of bytes) conn.writeRaw(Buffer.from([byte]));
    await until("two more messages", () => seen.messages.length === 3);
    expect(seen.messages[1]).toBe("z".repeat(200));
    expect(Buffer.isBuffer(seen.messages[2]) && [...(seen.messages[2] as Buffer)]).toEqual([1, 2, 3]);
  });

  it("the server's close frame: echoed, and the close event carries its code and reason", async () => {
    const { server, socket, seen, closed } = await connect();
    const conn = await server.connection();
    await until("open", () => seen.open === 1);
    conn.writeRaw(frame(0x8, Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from("bye ✓")])));
    await closed();
    expect(seen.close).toEqual({ code: 4000, reason: "bye ✓" });
    expect(conn.frames).toMatchObject([{ opcode: 0x8, payload: Buffer.from([0x0f, 0xa0]) }]);
    expect(socket.readyState).toBe(3);
    socket.send("after the close: dropped, no error");
  });

  it("close(1000, reason): a close frame, the server's echo, then the close event", async () => {
    const { server, socket, seen, closed } = await connect();
    const conn = await server.connection();
    await until("open", () => seen.open === 1);
    socket.close(1000, "done");
    expect(socket.readyState).toBe(2);
    await closed();
    expect(conn.clientClose).toEqual({ code: 1000, reason: "done" });
    expect(seen.close).toEqual({ code: 1000, reason: "" });
    expect(seen.errors).toEqual([]);
  });

  it("a dropped connection closes with 1006", async () => {
    const { server, seen, closed } = await connect();
    const conn = await server.connection();
    await until("open", () => seen.open === 1);
    conn.drop();
    await closed();
    expect(seen.close).toEqual({ code: 1006, reason: "" });
  });

  it.each([
    ["a text message that is not UTF-8", frame(0x1, Buffer.from([0x61, 0xff, 0x62])), 1007],
    ["a masked frame from the server", Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]), 1002],
    ["reserved bits set", frame(0x1, "a", true, 0x40), 1002],
    ["a continuation frame outside a message", frame(0x0, "a"), 1002],
    ["a fragmented or long control frame", frame(0x9, "p", false), 1002],
    ["unknown opcode 3", frame(0x3, "a"), 1002],
  ])("a server that breaks the protocol (%s) is closed with its code", async (why, bytes, code) => {
    const { server, seen, closed } = await connect();
    const conn = await server.connection();
    await until("open", () => seen.open === 1);
    conn.writeRaw(Buffer.concat([bytes, frame(0x1, "never read")]));
    await closed();
    expect(seen.close).toEqual({ code, reason: why });
    expect(conn.clientClose?.code).toBe(code);
    expect(seen.messages).toEqual([]);
  });

  it("a refused upgrade: the error event carries the server's status and body, then close 1006; never open", async () => {
    const problem = { status: 422, code: "validation_failed", detail: "events: a.b is not in the event catalog" };
    const { server, seen, closed } = await connect(() => ({ status: 422, body: problem }));
    await closed();
    expect(seen.errors).toEqual([{ refusal: { status: 422, statusText: "Refused", body: JSON.stringify(problem) } }]);
    expect(seen.close).toEqual({ code: 1006, reason: "" });
    expect(seen.open).toBe(0);
    expect(server.upgrades).toHaveLength(1);
    expect(server.requests).toEqual([]);
  });

  it("an unreachable server: the error event carries the network error", async () => {
    const server = await startFakeListenServer();
    const url = server.url.replace("http", "ws");
    await server.close();
    const socket = new NodeWebSocket(url, { headers: {} });
    const errors: SocketErrorEvent[] = [];
    socket.addEventListener("error", (e) => errors.push(e));
    await until("the error", () => errors.length === 1);
    expect(errors).toMatchObject([{ error: { code: "ECONNREFUSED" } }]);
    expect(socket.readyState).toBe(3);
  });

  it("close() while connecting: error, then close 1006, and no open", async () => {
    const { socket, seen, closed } = await connect();
    expect(() => socket.send("too early")).toThrow("not open yet");
    socket.close(1000, "interrupted");
    await closed();
    expect(seen.open).toBe(0);
    expect(seen.errors).toHaveLength(1);
    expect(seen.close).toEqual({ code: 1006, reason: "" });
  });
});
