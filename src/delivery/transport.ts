import type { DeliveryRequest } from "./http/request";
import { type SendResult, sendWebhook } from "./http/send";

/** What an attempt tells its transport beside the signed request. */
export type AttemptInfo = { deliveryId: string; attempt: number; eventId: string; eventType: string };

/**
 * How an attempt reaches its endpoint. HTTP is built in; any other (a
 * `hookgate listen` session's socket) comes with the ports the entry point
 * gives delivery, and is chosen by the endpoint's URL.
 */
export type Transport = {
  /** Whether this transport carries the endpoint at `url`. */
  carries(url: string): boolean;
  /**
   * For a receiver that may be away, asked before a delivery is claimed: null
   * to go ahead, or how long the delivery waits (pending, no attempt).
   */
  wait?(url: string, delivery: { id: string; eventTenantId: string }): Promise<number | null>;
  /** One attempt; the answer as an HTTP send's result. */
  send(url: string, info: AttemptInfo, request: DeliveryRequest, timeoutMs: number): Promise<SendResult>;
};

/** One POST per attempt (src/delivery/http/send.ts). */
export const httpTransport: Transport = {
  carries: () => true,
  send: (url, _info, request, timeoutMs) => sendWebhook(url, request, timeoutMs),
};

/** The transport of the endpoint at `url`: the first given one that carries it, else HTTP. */
export const transportFor = (transports: readonly Transport[], url: string): Transport =>
  transports.find((t) => t.carries(url)) ?? httpTransport;
