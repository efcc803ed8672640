/**
 * The key in the first message instead of the Authorization header (for clients that cannot set
 * headers on a WebSocket, such as browsers): the upgrade is accepted here, the first message
 * must be `{type: "auth", key}` within 10 s, and once admitted this connection relays to the
 * session's object (it does not hibernate, unlike a connection authenticated by its header).
 */

import { admit, identify } from "../auth/authenticate";
import { actorOf, type TenantOp } from "../auth/caller";
import { clientIp } from "../auth/credentials";
import type { AuthMessage, ErrorMessage } from "../common/listen-protocol";
import type { Config } from "../config";
import { DomainError, STATUS_OF_KIND } from "../lib/errors";
import { type ListenRequest, openListenSession } from "./open";

export const FIRST_MESSAGE_WAIT_MS = 10_000;
/** `{"type":"auth","key":"…"}` fits in far less; a bigger first message is refused unread. */
export const MAX_FIRST_MESSAGE_BYTES = 4 * 1024;
// Close codes: 1008 (policy violation) for a refusal, 1009 (message too big) for an oversized first message, 1011 for our own failure.
const REFUSED = 1008;
const TOO_BIG = 1009;

export function acceptAwaitingKey(env: Env, config: Config, request: Request, requestId: string, input: ListenRequest): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  const refuse = (status: number, code: string, detail: string, closeCode = REFUSED) => {
    try {
      server.send(JSON.stringify({ type: "error", status, message: `${code}: ${detail}` } satisfies ErrorMessage));
      server.close(closeCode, code);
    } catch {}
  };
  const timer = setTimeout(() => refuse(401, "unauthorized", 'Send {"type":"auth","key":"…"} first'), FIRST_MESSAGE_WAIT_MS);
  const onFirst = async (event: MessageEvent) => {
    server.removeEventListener("message", onFirst);
    clearTimeout(timer);
    if (sizeOf(event.data) > MAX_FIRST_MESSAGE_BYTES) {
      return refuse(413, "payload_too_large", `The first message must be at most ${MAX_FIRST_MESSAGE_BYTES} bytes`, TOO_BIG);
    }
    const key = keyOf(event.data);
    if (key === null) return refuse(401, "unauthorized", 'The first message must be {"type":"auth","key":"…"}');
    try {
      const identified = await identify(env, config, key, clientIp(request.headers));
      const { principal } = await admit(env, identified, { scope: "webhooks:write", bucket: "write" });
      const op: TenantOp = {
        env,
        config,
        tenant: principal.tenant,
        mode: principal.mode,
        caller: { principal },
        who: actorOf(principal, requestId),
      };
      const upstream = (await openListenSession(op, input, request)).webSocket;
      if (!upstream) throw new Error("the session did not accept the connection");
      upstream.accept();
      relay(server, upstream);
    } catch (err) {
      if (err instanceof DomainError) return refuse(STATUS_OF_KIND[err.kind], err.code, err.detail);
      console.error("listen: first-message connection failed", err);
      try {
        server.close(1011, "internal error");
      } catch {}
    }
  };
  server.addEventListener("message", onFirst);
  return new Response(null, { status: 101, webSocket: client });
}

/** Bytes of a text or binary message (a string's UTF-8 length is at least its length in code units). */
function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length > MAX_FIRST_MESSAGE_BYTES ? data.length : new TextEncoder().encode(data).byteLength;
  // A binary frame: a Blob, an ArrayBuffer or a view (of whichever realm, so not told apart by instanceof).
  const binary = data as { byteLength?: unknown; size?: unknown } | null;
  if (typeof binary?.byteLength === "number") return binary.byteLength;
  return typeof binary?.size === "number" ? binary.size : 0;
}

function keyOf(data: unknown): string | null {
  if (typeof data !== "string") return null;
  try {
    const m = JSON.parse(data) as { [F in keyof AuthMessage]?: unknown };
    return m?.type === "auth" && typeof m.key === "string" && m.key !== "" ? m.key : null;
  } catch {
    return null;
  }
}

/** Both ways, until either side closes. */
function relay(a: WebSocket, b: WebSocket): void {
  const closeCode = (code: number) => (code === 1005 || code === 1006 ? 1000 : code);
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.addEventListener("message", (e) => {
      try {
        to.send(e.data);
      } catch {}
    });
    from.addEventListener("close", (e) => {
      try {
        to.close(closeCode(e.code), e.reason);
      } catch {}
    });
    from.addEventListener("error", () => {
      try {
        to.close(1011, "the other side failed");
      } catch {}
    });
  }
}
