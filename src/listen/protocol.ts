/**
 * The server's side of `GET /v1/listen`'s messages (declared in src/common/listen-protocol.ts,
 * which the CLI shares): what the session object takes and gives, and a client's `result` checked.
 */
import { ATTEMPT_ERRORS, type AttemptError } from "../common/enums";
import { type DeliveryMessage, MAX_RESULT_BODY_BYTES, type ResultMessage } from "../common/listen-protocol";

/** The header that carries a connection's start from the listen route to its object (never the client's). */
export const START_HEADER = "x-hookgate-listen-start";

/** One signed request, exactly as an HTTP delivery would carry it. */
export type SocketDelivery = Omit<DeliveryMessage, "type">;

/** A client's result as the attempt records it: `error` null on a success. */
export type SocketResult = Omit<ResultMessage, "type" | "error"> & { error: AttemptError | null };

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
