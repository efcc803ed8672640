/**
 * The delivery engine's side of a listen session, as a transport: a `cli:<lsn_id>` subscription's
 * attempts go through the session's object instead of over HTTP, and wait (pending, not an
 * attempt) while no CLI is connected.
 */
import type { DeliveryRequest } from "../delivery/http/request";
import type { SendResult } from "../delivery/http/send";
import type { AttemptInfo, Transport } from "../delivery/transport";
import { listenSessionFor } from "../objects";
import { sessionOfUrl } from "./address";

/** While no CLI is connected, a waiting delivery looks again this often (it keeps its place in line; a reconnect hands it back at once). */
export const OFFLINE_RECHECK_MS = 60_000;

export const isListenEndpoint = (url: string): boolean => sessionOfUrl(url) !== null;

/** The listen sessions' transport, as the Worker gives it to delivery (src/wiring.ts). */
export const listenTransport = (env: Env): Transport => ({
  carries: isListenEndpoint,
  wait: (url, delivery) => listenSessionWait(env, url, delivery),
  send: (url, info, request, timeoutMs) => sendThroughSession(env, url, info, request, timeoutMs),
});

/**
 * Before a delivery to a listen session is claimed: null to go ahead, or how long to wait when
 * no CLI is connected (the delivery is queued in the session, to come back in order).
 */
async function listenSessionWait(env: Env, url: string, delivery: { id: string; eventTenantId: string }): Promise<number | null> {
  const sessionId = sessionOfUrl(url);
  if (!sessionId) return null;
  const admitted = await listenSessionFor(env, sessionId).admit(delivery.id, delivery.eventTenantId);
  return admitted === "go" ? null : OFFLINE_RECHECK_MS;
}

/** A deleted `cli:` subscription ends its session: a connected CLI is told and closed. */
export async function endListenSessionOf(env: Env, url: string): Promise<void> {
  const sessionId = sessionOfUrl(url);
  if (sessionId) await listenSessionFor(env, sessionId).end("The session's subscription was deleted; start hookgate listen again.");
}

/** One signed request down the session's socket; the CLI's answer as an HTTP send's result. */
async function sendThroughSession(
  env: Env,
  url: string,
  message: AttemptInfo,
  request: DeliveryRequest,
  timeoutMs: number,
): Promise<SendResult> {
  const sessionId = sessionOfUrl(url);
  const started = Date.now();
  const result = sessionId
    ? await listenSessionFor(env, sessionId).deliver({ ...message, headers: request.headers, body: request.body }, timeoutMs)
    : null;
  if (!result) {
    return { success: false, statusCode: null, durationMs: 0, responseBody: null, error: "connection", retryAfterSeconds: null };
  }
  const success = result.status !== null && result.status >= 200 && result.status < 300;
  return {
    success,
    statusCode: result.status,
    durationMs: Math.min(result.durationMs, Date.now() - started),
    responseBody: result.body,
    error: success ? null : result.error,
    retryAfterSeconds: null,
    ...(result.status === null && {
      errorDetail: result.error === "timeout" ? "no answer from hookgate listen in time" : "hookgate listen is not connected",
    }),
  };
}
