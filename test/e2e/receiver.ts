import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type Received = { at: number; path: string; headers: IncomingMessage["headers"]; body: string };
export type Decide = (req: Received, nth: number) => "ok" | "fail" | "hang" | number;

/**
 * A real HTTP receiver on 127.0.0.1 for the e2e suite. `decide` picks, per
 * request, a 2xx, a 500, a hang (never answers; the client's timeout ends
 * it), or an explicit status.
 */
export async function startReceiver(decide: Decide = () => "ok") {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = { at: Date.now(), path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      const verdict = decide(r, received.filter((x) => x.path === r.path).length);
      if (verdict === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      const status = verdict === "ok" ? 200 : verdict === "fail" ? 500 : verdict;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
