/**
 * The messages of `GET /v1/listen` (the CLI's side is src/tools/cli/listen-session.ts).
 *
 * Server → client: `ready` once per connection, `delivery` per attempt, `replaced` before a
 * connection is closed for a newer one, `error` before a fatal close; `pong` answers `ping`.
 * Client → server: `result` per delivery, `ping` (answered without waking the object).
 */
import type { AttemptError } from "../db/schema";
import { ATTEMPT_ERRORS } from "../db/schema";

export const MAX_RESULT_BODY_BYTES = 4096;
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';

export type ReadyMessage = { type: "ready"; sessionId: string; secret: string; webhookId: string; events: string[] };

/** One signed request, exactly as an HTTP delivery would carry it. */
export type SocketDelivery = {
  deliveryId: string;
  attempt: number;
  eventId: string;
  eventType: string;
  headers: Record<string, string>;
  body: string;
};

export type SocketResult = {
  deliveryId: string;
  attempt: number;
  status: number | null;
  body: string | null;
  durationMs: number;
  error: AttemptError | null;
};

const ERRORS = new Set<string>(ATTEMPT_ERRORS);

/** A `result` message from the CLI, checked field by field; null for anything else. */
export function parseResult(data: string | ArrayBuffer): SocketResult | null {
  if (typeof data !== "string") return null;
  let m: Record<string, unknown>;
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    m = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  if (m.type !== "result" || typeof m.deliveryId !== "string" || !Number.isInteger(m.attempt)) return null;
  const status = Number.isInteger(m.status) && (m.status as number) >= 100 && (m.status as number) <= 599 ? (m.status as number) : null;
  const durationMs = typeof m.durationMs === "number" && Number.isFinite(m.durationMs) ? Math.max(0, Math.round(m.durationMs)) : 0;
  const claimed = typeof m.error === "string" && ERRORS.has(m.error) ? (m.error as AttemptError) : null;
  // The status decides, as for HTTP: a 2xx is a success whatever else the message says.
  const error: AttemptError | null =
    status === null
      ? (claimed ?? "connection")
      : status >= 200 && status < 300
        ? null
        : status >= 300 && status < 400
          ? "redirect"
          : "http";
  return {
    deliveryId: m.deliveryId,
    attempt: m.attempt as number,
    status,
    body: status === null ? null : capText(typeof m.body === "string" ? m.body : ""),
    durationMs,
    error,
  };
}

/** At most 4 KiB of UTF-8, cut on a character boundary. */
export function capText(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= MAX_RESULT_BODY_BYTES) return text;
  return new TextDecoder().decode(bytes.subarray(0, MAX_RESULT_BODY_BYTES), { stream: true });
}
