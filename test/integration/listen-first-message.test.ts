import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_FIRST_MESSAGE_BYTES } from "../../src/listen/first-message";
import { BASE, call, newTenant } from "./helpers";

/**
 * GET /v1/listen with the key in the first message: before anyone is
 * authenticated, a first message bigger than an auth message can be is
 * refused (close 1009) without being parsed or looked up, and nothing is set up.
 */

async function awaitingKey() {
  const res = await exports.default.fetch(new Request(`${BASE}/v1/listen`, { headers: { upgrade: "websocket" } }));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const messages: any[] = [];
  ws.addEventListener("message", (e) => messages.push(JSON.parse(e.data as string)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })),
  );
  return { ws, messages, closed };
}

describe("GET /v1/listen: an oversized first message", () => {
  it.each([
    [
      "an auth message padded past the cap, with a good key",
      (key: string) => JSON.stringify({ type: "auth", key, pad: "x".repeat(MAX_FIRST_MESSAGE_BYTES) }),
    ],
    ["a 1 MiB text frame", () => "x".repeat(1024 * 1024)],
    ["a binary frame over the cap", () => new Uint8Array(MAX_FIRST_MESSAGE_BYTES + 1)],
  ])("%s: an error (413), then close 1009; no session is opened", async (_what, message) => {
    const { key } = await newTenant();
    const conn = await awaitingKey();
    conn.ws.send(message(key));
    expect(await conn.closed).toEqual({ code: 1009, reason: "payload_too_large" });
    expect(conn.messages).toEqual([{ type: "error", status: 413, message: expect.stringMatching(/^payload_too_large: /) }]);
    const hooks = await call("GET", "/v1/webhooks", { key });
    expect(hooks.body.data.filter((w: any) => w.managedBy === "cli")).toEqual([]);
  });

  it("an auth message at the cap is still read (and a good key admitted)", async () => {
    const { key } = await newTenant();
    const conn = await awaitingKey();
    const bare = JSON.stringify({ type: "auth", key, pad: "" });
    conn.ws.send(JSON.stringify({ type: "auth", key, pad: "x".repeat(MAX_FIRST_MESSAGE_BYTES - bare.length) }));
    await expect.poll(() => conn.messages.find((m) => m.type === "ready" || m.type === "error")).toMatchObject({ type: "ready" });
    conn.ws.close(1000);
  });
});
