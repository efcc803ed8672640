import type { AttemptError } from "../../db/schema";
import { readCapped } from "../../lib/read-capped";
import type { DeliveryRequest } from "./request";

export const MAX_RESPONSE_BYTES = 4096;

export type SendResult = {
  success: boolean;
  statusCode: number | null;
  durationMs: number;
  /** At most 4 KiB of the response body, as text. */
  responseBody: string | null;
  error: AttemptError | null;
  /** Seconds from a 429/503 `Retry-After`, if any. */
  retryAfterSeconds: number | null;
  errorDetail?: string;
};

/**
 * One HTTP POST to an endpoint. Success is a 2xx within `timeoutMs`;
 * redirects are not followed (a 3xx is a failure), and no more than 4 KiB of
 * the response is read, so a hostile endpoint cannot make us buffer much.
 */
export async function sendWebhook(url: string, req: DeliveryRequest, timeoutMs: number): Promise<SendResult> {
  const started = Date.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { method: "POST", body: req.body, headers: req.headers, redirect: "manual", signal });
    const responseBody = await readCapped(res, MAX_RESPONSE_BYTES, signal);
    const durationMs = Date.now() - started;
    const status = res.status;
    const ok = status >= 200 && status < 300;
    return {
      success: ok,
      statusCode: status,
      durationMs,
      responseBody,
      error: ok ? null : status >= 300 && status < 400 ? "redirect" : "http",
      retryAfterSeconds: status === 429 || status === 503 ? parseRetryAfter(res.headers.get("retry-after")) : null,
    };
  } catch (err) {
    return {
      success: false,
      statusCode: null,
      durationMs: Date.now() - started,
      responseBody: null,
      error: classifyError(err, signal),
      retryAfterSeconds: null,
      errorDetail: err instanceof Error ? err.message.slice(0, 200) : String(err).slice(0, 200),
    };
  }
}

export function classifyError(err: unknown, signal?: AbortSignal): AttemptError {
  const name = err instanceof Error ? err.name : "";
  const msg = err instanceof Error ? err.message : String(err);
  if (signal?.aborted || name === "TimeoutError" || name === "AbortError" || /timed? ?out/i.test(msg)) return "timeout";
  if (/dns|getaddrinfo|ENOTFOUND|resolve|name not resolved/i.test(msg)) return "dns";
  if (/tls|ssl|certificate|handshake/i.test(msg)) return "tls";
  return "connection";
}

/** `Retry-After` as seconds (delta or HTTP date); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
