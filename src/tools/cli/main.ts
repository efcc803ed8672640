/** The `hookgate` executable: the process around `run` (signals, stdio, exit code). */
import { readFile } from "node:fs/promises";
import { run } from "./run.js";
import { NodeWebSocket } from "./websocket.js";

const interrupt = new AbortController();
let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // The first one lets the command end cleanly (listen closes its socket); a second one, or a
    // command still running 3 s later (a request in flight, stdin being read), does not wait.
    if (++interrupts > 1) process.exit(130);
    interrupt.abort();
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

const code = await run(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interrupt: interrupt.signal,
  fetch: globalThis.fetch,
  WebSocket: NodeWebSocket,
  readText: async (path) => (path === "-" ? readStdin() : readFile(path, "utf8")),
  now: () => new Date(),
});
process.exitCode = code;
// Nothing should be left running; if something is (a socket that will not close), do not hang on it.
setTimeout(() => process.exit(code), 1000).unref();

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
