/**
 * The wire protocol of `GET /v1/listen` (`hookgate listen`), declared once for the server
 * (src/listen/) and the CLI (src/tools/cli/). JSON text frames; dependency-free.
 *
 * Server → client: `ready` once per connection, `delivery` per attempt, `replaced` before a
 * connection is closed for a newer one, `error` before a fatal close; `pong` answers `ping`.
 * Client → server: `auth` first, only when the upgrade carried no credential; `result` per
 * delivery (status and body null when the local endpoint gave no answer, then `error` says why);
 * `ping`, a keepalive while idle (answered without waking the session's object).
 */
import type { AttemptError } from "./enums";

/** A session without a connection is kept this long (then its subscription is deleted); the CLI retries as long. */
export const SESSION_KEPT_MS = 10 * 60_000;
/** A result's body, like an HTTP attempt's answer, is kept to this many bytes of UTF-8. */
export const MAX_RESULT_BODY_BYTES = 4096;

export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';

export type ReadyMessage = { type: "ready"; sessionId: string; secret: string; webhookId: string; events: string[] };

/** One signed request, exactly as an HTTP delivery would carry it. */
export type DeliveryMessage = {
  type: "delivery";
  deliveryId: string;
  attempt: number;
  eventId: string;
  eventType: string;
  headers: Record<string, string>;
  body: string;
};

export type ReplacedMessage = { type: "replaced"; message: string };
export type ErrorMessage = { type: "error"; message: string; status?: number };
export type PongMessage = { type: "pong" };

export type ServerMessage = ReadyMessage | DeliveryMessage | ReplacedMessage | ErrorMessage | PongMessage;

/** The key in the first message, for a client that cannot set headers on its upgrade. */
export type AuthMessage = { type: "auth"; key: string };

export type ResultMessage = {
  type: "result";
  deliveryId: string;
  attempt: number;
  status: number | null;
  body: string | null;
  durationMs: number;
  error?: AttemptError;
};

export type PingMessage = { type: "ping" };

export type ClientMessage = AuthMessage | ResultMessage | PingMessage;
