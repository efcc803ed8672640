import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildTools, DIST } from "../../scripts/build-tools.mjs";
import { type FakeConnection, startFakeListenServer } from "./cli-fake-ws";
import { until } from "./cli-io";

/** The built `hookgate` executable as a process: exit codes, stdio and signals. */
const BIN = path.join(DIST, "cli/hookgate.js");

beforeAll(() => buildTools({ declarations: false }), 30_000);

type Run = { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> };
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}

describe("the hookgate executable", () => {
  it("prints its version, and exits 2 with one line on a usage error", async () => {
    const version = start(["--version"]);
    expect(await version.exit).toBe(0);
    expect(version.stdout()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const missing = start(["trigger", "a.b"]);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr()).toBe("hookgate: HOOKGATE_URL is not set: export HOOKGATE_URL=https://hookgate.example.com, or pass --url\n");
  });

  it("listen: Ctrl-C closes the socket with 1000, prints how to resume, and exits 0", async () => {
    const server = await startFakeListenServer();
    try {
      const run = start(["listen", "--forward-to", "http://127.0.0.1:39999/hooks", "--events", "a.b"], {
        HOOKGATE_URL: server.url,
        HOOKGATE_API_KEY: "hg_key",
      });
      const conn: FakeConnection = await server.connection();
      expect(conn.headers.authorization).toBe("Bearer hg_key");
      conn.send({ type: "ready", sessionId: "lsn_bin", secret: "whsec_bin", webhookId: "wh_1", events: ["a.b"] });
      await until("the ready lines", () => run.stdout().includes("Signing secret: whsec_bin"));
      run.child.kill("SIGINT");
      expect(await run.exit).toBe(0);
      await conn.closed;
      expect(conn.clientClose?.code).toBe(1000);
      expect(run.stdout().trim().split("\n").at(-1)).toBe(
        "session lsn_bin kept for 10 minutes: hookgate listen --session lsn_bin to resume",
      );
      expect(run.stderr()).toBe("");
    } finally {
      await server.close();
    }
  });

  it("listen --print-secret prints the secret alone on stdout and exits 0", async () => {
    const server = await startFakeListenServer({
      onConnection: (c) => c.send({ type: "ready", sessionId: "lsn_p", secret: "whsec_p", webhookId: "wh_1", events: [] }),
    });
    try {
      const run = start(["listen", "--print-secret", "--session", "lsn_p"], { HOOKGATE_URL: server.url, HOOKGATE_API_KEY: "k" });
      expect(await run.exit).toBe(0);
      expect(run.stdout()).toBe("whsec_p\n");
      expect((await server.connection(0)).url.searchParams.get("session")).toBe("lsn_p");
    } finally {
      await server.close();
    }
  });
});
