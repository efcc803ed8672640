/**
 * The WebSocket client of `hookgate listen`: RFC 6455, client side, over node:http(s), with the
 * WHATWG surface the CLI uses (readyState, send, close, addEventListener).
 *
 * Why not the runtime's WebSocket (undici, in Node 22): when the server refuses the upgrade it
 * fires a bare "error" and hides the HTTP answer, so the CLI could not say "422 … not in the event
 * catalog" or "429 … try again in 3 s". Here the handshake is an ordinary node:http request, and a
 * refusal is its response: status and body reach the "error" event as `refusal`. No extension is
 * offered (no permessage-deflate), so every frame arrives as sent.
 */
import { createHash, randomBytes } from "node:crypto";
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { SocketErrorEvent, SocketLike } from "./io.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** The largest message taken (a delivery's body is far smaller); past it the connection closes with 1009. */
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
/** How much of a refusal's body is kept: enough for any problem document. */
const MAX_REFUSAL_BYTES = 16 * 1024;
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** After our close frame, how long the server has to close the TCP connection. */
const CLOSE_TIMEOUT_MS = 3000;

const [CONNECTING, OPEN, CLOSING, CLOSED] = [0, 1, 2, 3];

type CloseEvent = { code: number; reason: string };
type Listener = (event: never) => void;

class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Strict UTF-8 (invalid text fails the connection, 1007), a leading BOM kept as sent. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class NodeWebSocket implements SocketLike {
  readyState = CONNECTING;
  private readonly listeners = new Map<string, Listener[]>();
  private readonly request: ClientRequest;
  private socket: Duplex | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  /** The pieces of a fragmented message, and whether it is binary. */
  private message: { parts: Buffer[]; bytes: number; binary: boolean } | undefined;
  private closeSent = false;
  private closeReceived = false;
  /** What the close event will say: the server's close frame, or the code we failed the connection with. */
  private closeInfo: CloseEvent | undefined;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private answered = false;

  constructor(url: string, init: { headers?: Record<string, string> } = {}) {
    const target = new URL(url);
    if (target.protocol !== "ws:" && target.protocol !== "wss:") throw new SyntaxError(`not a WebSocket URL: ${target.protocol}`);
    const key = randomBytes(16).toString("base64");
    const request = target.protocol === "wss:" ? httpsRequest : httpRequest;
    this.request = request(new URL(target.href.replace(/^ws/, "http")), {
      headers: { ...init.headers, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": key },
    });
    this.request.setTimeout(HANDSHAKE_TIMEOUT_MS, () => {
      const error = Object.assign(new Error("no answer to the WebSocket handshake"), { code: "ETIMEDOUT" });
      this.request.destroy(error);
    });
    this.request.on("upgrade", (res: IncomingMessage, socket: Duplex, head: Buffer) => this.upgraded(res, socket, head, key));
    this.request.on("response", (res: IncomingMessage) => this.refused(res));
    this.request.on("error", (error: Error) => {
      if (!this.answered) this.fail({ error });
    });
    this.request.end();
  }

  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: CloseEvent) => void): void;
  addEventListener(type: "error", listener: (event: SocketErrorEvent) => void): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState === CONNECTING) throw new Error("the WebSocket is not open yet");
    if (this.readyState === OPEN) this.write(0x1, Buffer.from(data, "utf8"));
  }

  close(code?: number, reason = ""): void {
    if (this.readyState === CONNECTING) {
      this.request.destroy();
      this.fail({ error: new Error("closed before the connection was open") });
      return;
    }
    if (this.readyState !== OPEN) return;
    const text = Buffer.from(reason, "utf8").subarray(0, 123);
    const payload = code === undefined ? Buffer.alloc(0) : Buffer.concat([uint16(code), text]);
    this.sendClose(payload);
  }

  private emit(type: "open" | "message" | "close" | "error", event: unknown) {
    for (const listener of this.listeners.get(type) ?? []) (listener as (event: unknown) => void)(event);
  }

  /** Before the connection is open: "error" (with the refusal or the cause), then "close" (1006). */
  private fail(event: SocketErrorEvent) {
    if (this.readyState !== CONNECTING) return;
    this.readyState = CLOSED;
    this.emit("error", event);
    this.emit("close", { code: 1006, reason: "" });
  }

  /** Any answer but 101: the server refused the upgrade. Its body is read, then reported. */
  private refused(res: IncomingMessage) {
    this.answered = true;
    const chunks: Buffer[] = [];
    let bytes = 0;
    res.on("data", (chunk: Buffer) => {
      if (bytes < MAX_REFUSAL_BYTES) chunks.push(chunk);
      bytes += chunk.length;
    });
    res.on("error", () => {});
    res.on("close", () => {
      const body = Buffer.concat(chunks).subarray(0, MAX_REFUSAL_BYTES).toString("utf8");
      this.fail({ refusal: { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", body } });
    });
  }

  private upgraded(res: IncomingMessage, socket: Duplex, head: Buffer, key: string) {
    this.answered = true;
    const accept = createHash("sha1").update(`${key}${GUID}`).digest("base64");
    const problem =
      res.headers.upgrade?.toLowerCase() !== "websocket"
        ? "without Upgrade: websocket"
        : res.headers["sec-websocket-accept"] !== accept
          ? "with a wrong Sec-WebSocket-Accept"
          : res.headers["sec-websocket-extensions"]
            ? "with an extension that was not offered"
            : undefined;
    if (problem || this.readyState !== CONNECTING) {
      socket.destroy();
      if (problem) this.fail({ error: new Error(`the server answered the upgrade ${problem}`) });
      return;
    }
    this.socket = socket;
    (socket as Socket).setTimeout?.(0);
    (socket as Socket).setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {}); // the close that follows reports it
    socket.on("close", () => this.closed());
    this.readyState = OPEN;
    this.emit("open", undefined);
    if (head.length > 0) this.receive(head);
  }

  private receive(chunk: Buffer) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      while (!this.closeReceived && this.readyState !== CLOSED && this.nextFrame()) {}
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // A server that breaks the protocol: say so in a close frame and drop the connection.
      this.closeInfo ??= { code: err.code, reason: err.message };
      if (!this.closeSent) this.sendClose(Buffer.concat([uint16(err.code), Buffer.from(err.message)]));
      this.closeReceived = true; // nothing more is read
      this.socket?.end();
    }
  }

  /** Takes one whole frame off the buffer and acts on it; false when the buffer holds less than a frame. */
  private nextFrame(): boolean {
    const buf = this.buffer;
    if (buf.length < 2) return false;
    const fin = (buf[0]! & 0x80) !== 0;
    const opcode = buf[0]! & 0x0f;
    if ((buf[0]! & 0x70) !== 0) throw new ProtocolError(1002, "reserved bits set");
    if ((buf[1]! & 0x80) !== 0) throw new ProtocolError(1002, "a masked frame from the server");
    let length = buf[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buf.length < 4) return false;
      length = buf.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buf.length < 10) return false;
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(MAX_MESSAGE_BYTES)) throw new ProtocolError(1009, "message too big");
      length = Number(big);
      offset = 10;
    }
    if (opcode >= 0x8 && (!fin || length > 125)) throw new ProtocolError(1002, "a fragmented or long control frame");
    if (buf.length < offset + length) return false;
    const payload = buf.subarray(offset, offset + length);
    this.buffer = buf.subarray(offset + length);

    switch (opcode) {
      case 0x0:
        if (!this.message) throw new ProtocolError(1002, "a continuation frame outside a message");
        this.append(payload, fin);
        return true;
      case 0x1:
      case 0x2:
        if (this.message) throw new ProtocolError(1002, "a new message inside a fragmented one");
        this.message = { parts: [], bytes: 0, binary: opcode === 0x2 };
        this.append(payload, fin);
        return true;
      case 0x8:
        this.closeFrame(payload);
        return true;
      case 0x9:
        this.write(0xa, payload);
        return true;
      case 0xa:
        return true;
      default:
        throw new ProtocolError(1002, `unknown opcode ${opcode}`);
    }
  }

  private append(payload: Buffer, fin: boolean) {
    const message = this.message!;
    message.bytes += payload.length;
    if (message.bytes > MAX_MESSAGE_BYTES) throw new ProtocolError(1009, "message too big");
    message.parts.push(payload);
    if (!fin) return;
    this.message = undefined;
    const data = Buffer.concat(message.parts);
    if (message.binary) return this.emit("message", { data });
    let text: string;
    try {
      text = utf8.decode(data);
    } catch {
      throw new ProtocolError(1007, "a text message that is not UTF-8");
    }
    this.emit("message", { data: text });
  }

  private closeFrame(payload: Buffer) {
    if (payload.length === 1) throw new ProtocolError(1002, "a close frame of one byte");
    let reason: string;
    try {
      reason = utf8.decode(payload.subarray(2));
    } catch {
      throw new ProtocolError(1007, "a close reason that is not UTF-8");
    }
    this.closeReceived = true;
    this.closeInfo ??= { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason };
    if (!this.closeSent) this.sendClose(payload.subarray(0, 2));
    this.socket?.end();
  }

  private sendClose(payload: Buffer) {
    this.write(0x8, payload);
    this.closeSent = true;
    this.readyState = CLOSING;
    this.closeTimer = setTimeout(() => this.socket?.destroy(), CLOSE_TIMEOUT_MS);
    this.closeTimer.unref?.();
  }

  /** The TCP connection is gone: "close", with the close frame's code, else 1006 (abnormal). */
  private closed() {
    clearTimeout(this.closeTimer);
    this.readyState = CLOSED;
    this.emit("close", this.closeInfo ?? { code: 1006, reason: "" });
  }

  /** One frame, masked as a client's must be. */
  private write(opcode: number, payload: Buffer) {
    const socket = this.socket;
    if (!socket || socket.destroyed || socket.writableEnded) return;
    const n = payload.length;
    const size = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const header = Buffer.alloc(size);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | (size === 2 ? n : size === 4 ? 126 : 127);
    if (size === 4) header.writeUInt16BE(n, 2);
    if (size === 10) header.writeBigUInt64BE(BigInt(n), 2);
    const mask = randomBytes(4);
    const masked = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
    socket.write(Buffer.concat([header, mask, masked]));
  }
}

function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
