import type { AttemptError } from "../../common/enums";
import { MAX_RESULT_BODY_BYTES } from "../../common/listen-protocol";
import { readCapped } from "../../lib/read-capped";
import { describeNetworkError, errorCode } from "./io.js";

/** As Hookgate's own attempts: 10 s, at most 4 KiB of the answer read, redirects not followed. */
export const FORWARD_TIMEOUT_MS = 10_000;

export interface ForwardResult {
  /** The local endpoint's status; null when it gave no answer. */
  status: number | null;
  /** At most 4 KiB of its answer, as text; null when it gave no answer. */
  body: string | null;
  durationMs: number;
  /** The attempt's error, in the delivery log's words. */
  error?: AttemptError;
  /** A short human reason for `error` when no status came back ("connection refused"). */
  detail?: string;
}

// Set by fetch itself, or meaningless for a hop to another server.
const DROPPED_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "proxy-connection",
  "proxy-authorization",
]);

/** POSTs a delivery to the local endpoint with its headers and body, as Hookgate would have. */
export async function forwardDelivery(
  url: string,
  delivery: { headers: Record<string, string>; body: string },
  options: { fetch?: typeof fetch; timeoutMs?: number; now?: () => number } = {},
): Promise<ForwardResult> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const headers = Object.fromEntries(Object.entries(delivery.headers).filter(([name]) => !DROPPED_HEADERS.has(name.toLowerCase())));
  const signal = AbortSignal.timeout(options.timeoutMs ?? FORWARD_TIMEOUT_MS);
  const started = now();
  try {
    const res = await doFetch(url, { method: "POST", headers, body: delivery.body, redirect: "manual", signal });
    const body = (await readCapped(res, MAX_RESULT_BODY_BYTES)) ?? "";
    const status = res.status;
    const result: ForwardResult = { status, body, durationMs: now() - started };
    if (status < 200 || status >= 300) result.error = status >= 300 && status < 400 ? "redirect" : "http";
    return result;
  } catch (err) {
    const error = classify(err, signal);
    return {
      status: null,
      body: null,
      durationMs: now() - started,
      error,
      detail: error === "timeout" ? `no answer within ${(options.timeoutMs ?? FORWARD_TIMEOUT_MS) / 1000} s` : describeNetworkError(err),
    };
  }
}

function classify(err: unknown, signal: AbortSignal): AttemptError {
  const name = err instanceof Error ? err.name : "";
  if (signal.aborted || name === "TimeoutError" || name === "AbortError") return "timeout";
  const code = errorCode(err) ?? "";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns";
  if (/TIMEOUT|ETIMEDOUT/.test(code)) return "timeout";
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return "tls";
  return "connection";
}
