import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * A stand-in for Hookgate's `GET /v1/listen`, for the CLI's tests: node:http with just enough of
 * RFC 6455 (the handshake, unfragmented text frames, close, ping) to play the server side.
 */
export type FakeConnection = {
  url: URL;
  headers: IncomingMessage["headers"];
  /** Text messages from the client, parsed as JSON. */
  received: any[];
  send(message: unknown): void;
  /** A clean close: a close frame with `code`, then the socket ends. */
  close(code?: number, reason?: string): void;
  /** An abrupt drop: the TCP connection is destroyed without a close frame. */
  drop(): void;
  /** Bytes as they are, for frames the helpers above do not make. */
  writeRaw(bytes: Buffer): void;
  /** Every frame from the client, in order: its opcode, whether it was masked, its payload. */
  frames: { opcode: number; masked: boolean; payload: Buffer }[];
  /** The close code the client sent, once it has. */
  clientClose?: { code: number; reason: string };
  closed: Promise<void>;
  nextMessage(): Promise<any>;
};

/** A refusal of the upgrade: a string body is sent as it is (with `contentType`), anything else as JSON problem. */
export type UpgradeDecision = { status: number; body?: unknown; contentType?: string } | undefined;

export async function startFakeListenServer(
  options: {
    /** Refuse an upgrade with an HTTP answer instead of accepting it. */
    onUpgrade?: (req: IncomingMessage) => UpgradeDecision;
    /** Plain HTTP requests (the CLI's diagnostic GET after a refused upgrade). */
    onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
    onConnection?: (conn: FakeConnection) => void;
  } = {},
) {
  const connections: FakeConnection[] = [];
  const upgrades: IncomingMessage[] = [];
  const requests: IncomingMessage[] = [];
  const sockets = new Set<Duplex>();
  const waiters: ((c: FakeConnection) => void)[] = [];

  const server: Server = createServer((req, res) => {
    requests.push(req);
    if (options.onRequest) return options.onRequest(req, res);
    res.writeHead(426, { "content-type": "application/problem+json" });
    res.end(JSON.stringify({ status: 426, code: "upgrade_required", detail: "Connect with a WebSocket" }));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    upgrades.push(req);
    const refusal = options.onUpgrade?.(req);
    if (refusal) {
      const body = refusal.body === undefined ? "" : typeof refusal.body === "string" ? refusal.body : JSON.stringify(refusal.body);
      const type = refusal.contentType ?? "application/problem+json";
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const conn = connection(req, socket);
    connections.push(conn);
    options.onConnection?.(conn);
    for (const w of waiters.splice(0)) w(conn);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");

  return {
    url: `http://127.0.0.1:${address.port}`,
    /** The node:http server, for a test that answers in its own way. */
    raw: server,
    connections,
    upgrades,
    requests,
    /** The next connection to be accepted (or the one already accepted at `index`). */
    connection(index = connections.length): Promise<FakeConnection> {
      const existing = connections[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => {
        const wait = () => {
          if (connections[index]) resolve(connections[index]);
          else waiters.push(wait);
        };
        waiters.push(wait);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function connection(req: IncomingMessage, socket: Duplex): FakeConnection {
  let buffer = Buffer.alloc(0);
  const inbox: any[] = [];
  const readers: ((m: any) => void)[] = [];
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  socket.on("close", () => resolveClosed());
  socket.on("error", () => {});

  const writeFrame = (opcode: number, payload: Buffer) => {
    if (socket.destroyed) return;
    const header =
      payload.length < 126
        ? Buffer.from([0x80 | opcode, payload.length])
        : payload.length < 65536
          ? Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff])
          : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(payload.length)]);
    socket.write(Buffer.concat([header, payload]));
  };

  const conn: FakeConnection = {
    url: new URL(req.url ?? "/", "http://localhost"),
    headers: req.headers,
    received: [],
    closed,
    send: (message) => writeFrame(0x1, Buffer.from(typeof message === "string" ? message : JSON.stringify(message))),
    close(code = 1000, reason = "") {
      const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
      payload.writeUInt16BE(code, 0);
      payload.write(reason, 2);
      writeFrame(0x8, payload);
      socket.end();
    },
    drop: () => socket.destroy(),
    writeRaw: (bytes) => socket.write(bytes),
    frames: [],
    nextMessage: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((resolve) => readers.push(resolve))),
  };

  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buffer[1]! & 0x80) !== 0;
      const mask = masked ? buffer.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      buffer = buffer.subarray(offset + length);
      conn.frames.push({ opcode, masked, payload });

      if (opcode === 0x1) {
        const message = JSON.parse(payload.toString("utf8"));
        conn.received.push(message);
        const reader = readers.shift();
        if (reader) reader(message);
        else inbox.push(message);
      } else if (opcode === 0x8) {
        conn.clientClose = { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString("utf8") };
        writeFrame(0x8, payload.subarray(0, 2));
        socket.end();
      } else if (opcode === 0x9) {
        writeFrame(0xa, payload);
      }
    }
  });
  return conn;
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
