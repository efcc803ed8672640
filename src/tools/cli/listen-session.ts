/**
 * The client side of `GET /v1/listen`'s protocol (src/common/listen-protocol.ts), free of
 * sockets: it takes the server's messages one at a time and answers through the functions it is
 * given.
 */
import {
  type DeliveryMessage,
  type ReadyMessage,
  type ResultMessage,
  SESSION_KEPT_MS,
  type ServerMessage,
} from "../../common/listen-protocol";
import type { ForwardResult } from "./forward.js";
import { oneLine } from "./io.js";

/** What the socket should do after a message. */
export type Step = { kind: "continue" } | { kind: "exit"; code: number; message?: string };

export interface SessionDeps {
  /** Where deliveries go; not needed with `printSecret`. */
  forwardTo?: string;
  /** Print the secret once ready, and stop. */
  printSecret?: boolean;
  /** Whether the session was asked for by id (`--session`), rather than created by this run. */
  resumed?: boolean;
  forward(delivery: DeliveryMessage): Promise<ForwardResult>;
  out(line: string): void;
  err(line: string): void;
  now(): Date;
}

const isString = (v: unknown): v is string => typeof v === "string";

/** The message in a text frame, or why it is not one this client knows. */
export function parseServerMessage(data: unknown): ServerMessage | { type: "ignored"; why: string } {
  if (typeof data !== "string") return { type: "ignored", why: "a binary frame" };
  let m: Record<string, unknown>;
  try {
    const parsed = JSON.parse(data) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { type: "ignored", why: "not a JSON object" };
    m = parsed as Record<string, unknown>;
  } catch {
    return { type: "ignored", why: "not JSON" };
  }
  switch (m.type) {
    case "ready":
      if (isString(m.sessionId) && isString(m.secret)) {
        const events = Array.isArray(m.events) ? m.events.filter(isString) : [];
        return { type: "ready", sessionId: m.sessionId, secret: m.secret, webhookId: isString(m.webhookId) ? m.webhookId : "", events };
      }
      return { type: "ignored", why: "a ready message without sessionId and secret" };
    case "delivery": {
      const headers = m.headers;
      const headersOk =
        typeof headers === "object" && headers !== null && !Array.isArray(headers) && Object.values(headers).every(isString);
      if (
        isString(m.deliveryId) &&
        Number.isInteger(m.attempt) &&
        isString(m.eventId) &&
        isString(m.eventType) &&
        headersOk &&
        isString(m.body)
      ) {
        return {
          type: "delivery",
          deliveryId: m.deliveryId,
          attempt: m.attempt as number,
          eventId: m.eventId,
          eventType: m.eventType,
          headers: headers as Record<string, string>,
          body: m.body,
        };
      }
      return { type: "ignored", why: "a delivery message missing fields" };
    }
    case "replaced":
      return { type: "replaced", message: isString(m.message) ? m.message : "This session was taken over by another connection." };
    case "pong":
      return { type: "pong" };
    case "error": {
      const message = isString(m.message) ? m.message : "The server ended the session.";
      return typeof m.status === "number" ? { type: "error", message, status: m.status } : { type: "error", message };
    }
    default:
      // Newer servers may send more kinds; this client skips them.
      return { type: "ignored", why: `an unknown message type ${JSON.stringify(m.type)}` };
  }
}

export class ListenSession {
  /** The session id once ready (kept across reconnects). */
  sessionId: string | undefined;
  secret: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: SessionDeps) {}

  /** How many ready messages have come (one per connection that got that far). */
  readyCount = 0;

  /**
   * Handles one frame. A delivery is forwarded in the background (see `idle`) and its result
   * goes back through `reply`: the connection it came on, so a result never crosses to another.
   */
  handle(data: unknown, reply: (message: ResultMessage) => void): Step {
    const message = parseServerMessage(data);
    switch (message.type) {
      case "ready":
        this.readyCount++;
        return this.ready(message);
      case "delivery":
        this.track(this.deliver(message, reply));
        return { kind: "continue" };
      case "replaced":
        return { kind: "exit", code: 0, message: oneLine(message.message) };
      case "pong":
        return { kind: "continue" };
      case "error":
        return { kind: "exit", code: 1, message: oneLine(message.status ? `${message.status} ${message.message}` : message.message) };
      case "ignored":
        this.deps.err(`hookgate: ignored ${message.why} from the server`);
        return { kind: "continue" };
    }
  }

  /** Resolves once every delivery received so far has been forwarded and answered. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** The line that says how to come back to this session. */
  keptLine(): string | undefined {
    return (
      this.sessionId &&
      `session ${this.sessionId} kept for ${SESSION_KEPT_MS / 60_000} minutes: hookgate listen --session ${this.sessionId} to resume`
    );
  }

  private ready(message: ReadyMessage): Step {
    const previous = this.sessionId;
    this.sessionId = message.sessionId;
    this.secret = message.secret;
    if (this.deps.printSecret) {
      this.deps.out(message.secret);
      if (!this.deps.resumed) this.deps.err(this.keptLine()!);
      return { kind: "exit", code: 0 };
    }
    if (previous === message.sessionId) {
      this.deps.out(`Reconnected to session ${message.sessionId}.`);
      return { kind: "continue" };
    }
    if (previous) this.deps.err(`hookgate: session ${previous} has expired; this is a new session, with a new signing secret.`);
    const events = message.events.length === 0 || message.events.includes("*") ? "all events" : message.events.join(", ");
    this.deps.out(`Ready! Session ${message.sessionId}: forwarding ${events} to ${this.deps.forwardTo} (Ctrl-C to quit)`);
    this.deps.out(`Signing secret: ${message.secret}`);
    return { kind: "continue" };
  }

  private async deliver(delivery: DeliveryMessage, reply: (message: ResultMessage) => void): Promise<void> {
    const result = await this.deps.forward(delivery);
    const message: ResultMessage = {
      type: "result",
      deliveryId: delivery.deliveryId,
      attempt: delivery.attempt,
      status: result.status,
      body: result.body,
      durationMs: result.durationMs,
      ...(result.error && { error: result.error }),
    };
    reply(message);
    const outcome = result.status !== null ? String(result.status) : `${result.error}${result.detail ? ` (${result.detail})` : ""}`;
    this.deps.out(
      [
        clock(this.deps.now()),
        delivery.eventType,
        delivery.eventId,
        `attempt ${delivery.attempt}`,
        outcome,
        `${result.durationMs} ms`,
      ].join("  "),
    );
  }

  private track(work: Promise<void>) {
    const tracked = work
      .catch((err) => this.deps.err(`hookgate: a delivery could not be forwarded: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }
}

/** HH:MM:SS, local time. */
const clock = (d: Date) => [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
