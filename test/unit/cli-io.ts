import type { CliIO } from "../../src/tools/cli/io";
import { NodeWebSocket } from "../../src/tools/cli/websocket";

/** A CliIO that records output, with the real fetch and the CLI's WebSocket, and Ctrl-C as `interrupt()`. */
export function testIO(env: Record<string, string | undefined> = {}, files: Record<string, string> = {}) {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    env,
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    interrupt: controller.signal,
    fetch: globalThis.fetch,
    WebSocket: NodeWebSocket,
    readText: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    now: () => new Date(2025, 5, 15, 12, 0, 1),
  };
  return { io, out, err, interrupt: () => controller.abort() };
}

/** Resolves once `check` passes (polling), or fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
