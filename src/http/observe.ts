import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { recorder } from "../monitoring/recorder";
import type { AppEnv } from "./context";

/**
 * The one JSON line each request writes to the Worker's log (Workers Logs
 * and Logpush index its fields). Only these fields, by construction: never a
 * header, a query string, a path (a source's URL carries its token) or a
 * body; `route` is the pattern that answered, not the path asked for.
 */
export type RequestLogLine = {
  requestId: string;
  tenantId: string | null;
  credentialId: string | null;
  method: string;
  route: string;
  status: number;
  code: string | null;
  durationMs: number;
};

/** The pattern of the route that answered (`/v1/keys/:id`), `gateway <METHOD> <pattern>`, or `unmatched`. */
function routeOf(c: Context<AppEnv>): string {
  const set = c.get("route");
  if (set) return set;
  const handlers = matchedRoutes(c).filter((r) => r.method !== "ALL");
  return handlers.at(-1)?.path ?? "unmatched";
}

function defer(c: Context<AppEnv>, work: Promise<unknown>): void {
  const settled = work.catch(() => {});
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // No execution context (a request made without one): the work still runs, unawaited.
  }
}

/**
 * Mounted right after the request id: once the answer is known, writes the
 * request's log line and, for a request made with a known credential (the
 * API and the gateway alike), counts its outcome and keeps a non-2xx answer
 * for the request-error log, in this isolate's memory. The batch is written
 * when it is 10 s old: by the first request to end after that, or by a
 * timer the batch's first request leaves in `waitUntil`.
 */
export const observeRequests = (): MiddlewareHandler<AppEnv> =>
  async function observeMiddleware(c, next) {
    const started = Date.now();
    await next();
    const at = Date.now();
    const status = c.res.status;
    const credential = c.get("credential");
    const line: RequestLogLine = {
      requestId: c.get("requestId"),
      tenantId: credential?.tenantId ?? null,
      credentialId: credential?.credentialId ?? null,
      method: c.req.method,
      route: routeOf(c),
      status,
      code: c.get("errorCode") ?? null,
      durationMs: at - started,
    };
    console.log(JSON.stringify(line));
    const config = c.get("config");
    if (!credential || !config) return;
    const newBatch = recorder.record({
      requestId: line.requestId,
      at,
      tenantId: credential.tenantId,
      credentialId: credential.credentialId,
      mode: credential.mode,
      method: line.method,
      path: c.req.path,
      status,
      code: line.code,
      durationMs: line.durationMs,
      ip: credential.ip,
    });
    const flush = () => recorder.flush(c.env, config.eventRetentionDays);
    if (recorder.due(at, config.usageFlushMs)) defer(c, flush());
    else if (newBatch) defer(c, new Promise((resolve) => setTimeout(resolve, config.usageFlushMs)).then(flush));
  };
