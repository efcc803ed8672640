import type { TenantOp } from "../auth/caller";
import { DomainError } from "../lib/errors";
import { listenSessionFor } from "../objects";
import { START_HEADER } from "./protocol";
import { createListenSession, findListenSession, type SessionStart } from "./subscription";

export const isUpgrade = (request: Request): boolean => request.headers.get("upgrade")?.toLowerCase() === "websocket";

export type ListenRequest = { events: string[]; sessionId?: string };

/**
 * GET /v1/listen, once the caller holds `webhooks:write`: resumes the tenant's session (404 for
 * an unknown or another tenant's; a new one when it has expired) or opens a new one with its
 * subscription, then hands the WebSocket to the session's object. A plain GET learns whether
 * the session exists, then gets 426.
 */
export async function openListenSession(op: TenantOp, input: ListenRequest, request: Request): Promise<Response> {
  const found = input.sessionId ? await findListenSession(op, input.sessionId) : undefined;
  if (!isUpgrade(request)) {
    throw new DomainError("upgrade_required", "GET /v1/listen is a WebSocket: send Upgrade: websocket (hookgate listen does)");
  }
  const start: SessionStart =
    found && found !== "expired" ? found : await createListenSession(op, input.events.length > 0 ? input.events : ["*"]);
  const stub = listenSessionFor(op.env, start.sessionId);
  const headers = new Headers();
  for (const name of ["upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"]) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set(START_HEADER, JSON.stringify(start));
  return stub.fetch(new Request("https://listen-session/connect", { headers }));
}
