/**
 * `hookgate listen`: a WebSocket to `GET /v1/listen`, deliveries forwarded to a local URL.
 * The key travels in the `Authorization` header of the upgrade request, never in the URL.
 * A connection that drops after the session was ready is reopened on the same session
 * (`?session=lsn_…`), which the server keeps for 10 minutes; Ctrl-C closes it cleanly.
 */
import { PING, type ResultMessage, SESSION_KEPT_MS } from "../../common/listen-protocol";
import { forwardDelivery } from "./forward.js";
import {
  CliError,
  type CliIO,
  describeHttpError,
  describeNetworkError,
  errorCode,
  oneLine,
  type SocketErrorEvent,
  type SocketLike,
  trimBase,
} from "./io.js";
import { ListenSession } from "./listen-session.js";

export interface ListenOptions {
  baseUrl: string;
  apiKey: string;
  forwardTo?: string;
  events?: string[];
  session?: string;
  printSecret?: boolean;
  /** Timings, for tests: the forward timeout and the reconnect backoff. */
  forwardTimeoutMs?: number;
  reconnect?: { firstDelayMs?: number; maxDelayMs?: number; giveUpAfterMs?: number };
  closeWaitMs?: number;
  /** The keepalive's period (default 30 s). */
  pingEveryMs?: number;
}

const OPEN = 1;
/** An idle socket is kept alive with a ping this often (the server answers without waking its object). */
const PING_EVERY_MS = 30_000;

type Outcome =
  | { kind: "exit"; code: number; message?: string }
  | { kind: "interrupted" }
  | { kind: "dropped"; opened: boolean; ready: boolean; code: number; reason: string; failure?: SocketErrorEvent };

/** The `ws(s)://…/v1/listen?events=…&session=…` URL (no credential in it). */
export function listenUrl(baseUrl: string, events: string[] | undefined, session: string | undefined): string {
  const url = new URL(`${trimBase(baseUrl)}/v1/listen`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const query: string[] = [];
  if (events && events.length > 0) query.push(`events=${events.map(encodeURIComponent).join(",")}`);
  if (session) query.push(`session=${encodeURIComponent(session)}`);
  return `${url.origin}${url.pathname}${query.length > 0 ? `?${query.join("&")}` : ""}`;
}

export async function listen(options: ListenOptions, io: CliIO): Promise<number> {
  const firstDelay = options.reconnect?.firstDelayMs ?? 1000;
  const maxDelay = options.reconnect?.maxDelayMs ?? 30_000;
  const giveUpAfter = options.reconnect?.giveUpAfterMs ?? SESSION_KEPT_MS;
  const closeWait = options.closeWaitMs ?? 2000;
  const forwardTo = options.forwardTo;

  const session = new ListenSession({
    ...(forwardTo !== undefined && { forwardTo }),
    printSecret: options.printSecret === true,
    resumed: options.session !== undefined,
    forward: (delivery) =>
      forwardDelivery(forwardTo!, delivery, {
        fetch: io.fetch,
        ...(options.forwardTimeoutMs !== undefined && { timeoutMs: options.forwardTimeoutMs }),
      }),
    out: io.out,
    err: io.err,
    now: io.now,
  });

  let droppedSince: number | undefined;
  let delay = firstDelay;
  for (;;) {
    const url = listenUrl(options.baseUrl, options.events, session.sessionId ?? options.session);
    const outcome = await connectOnce(url, options.apiKey, session, io, closeWait, options.pingEveryMs ?? PING_EVERY_MS);

    if (outcome.kind === "exit") {
      if (outcome.code !== 0) throw new CliError(outcome.message ?? "the server ended the session");
      if (outcome.message) io.out(outcome.message);
      return 0;
    }
    if (outcome.kind === "interrupted") return interrupted(session, options, io);

    if (!outcome.ready && session.readyCount === 0) {
      // Never got a session: say why, once, and stop.
      if (outcome.opened) throw new CliError(`the server closed the connection before the session was ready (${closeText(outcome)})`);
      throw new CliError(whyNotOpen(outcome.failure, options.baseUrl).message);
    }
    let problem = `connection lost (${closeText(outcome)})`;
    if (outcome.ready) {
      droppedSince = Date.now();
      delay = firstDelay;
    } else if (!outcome.opened) {
      const why = whyNotOpen(outcome.failure, options.baseUrl);
      if (why.refused) throw new CliError(why.message);
      problem = `could not reconnect: ${why.message}`;
    }
    droppedSince ??= Date.now();
    if (Date.now() - droppedSince >= giveUpAfter) {
      throw new CliError(`could not reconnect to session ${session.sessionId} within ${formatDelay(giveUpAfter)}; it has expired`);
    }
    io.err(`hookgate: ${problem}; reconnecting in ${formatDelay(delay)}…`);
    if (await sleep(delay, io.interrupt)) return interrupted(session, options, io);
    delay = Math.min(delay * 2, maxDelay);
  }
}

function interrupted(session: ListenSession, options: ListenOptions, io: CliIO): number {
  const kept = session.keptLine();
  if (kept && !options.printSecret) io.out(kept);
  return 0;
}

/** One connection, from the upgrade to its close. */
function connectOnce(
  url: string,
  apiKey: string,
  session: ListenSession,
  io: CliIO,
  closeWait: number,
  pingEvery: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let socket: SocketLike;
    try {
      socket = new io.WebSocket(url, { headers: { authorization: `Bearer ${apiKey}` } });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      resolve({ kind: "dropped", opened: false, ready: false, code: 1006, reason: "", failure: { error } });
      return;
    }
    const readyBefore = session.readyCount;
    let opened = false;
    let pending: Outcome | undefined;
    let settled = false;
    let closeTimer: ReturnType<typeof setTimeout> | undefined;
    let pinger: ReturnType<typeof setInterval> | undefined;

    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(closeTimer);
      clearInterval(pinger);
      io.interrupt.removeEventListener("abort", onInterrupt);
      resolve(outcome);
    };
    /** Ends this connection with `outcome`: closes the socket (code 1000) and waits briefly for the close. */
    const finish = (outcome: Outcome, close: boolean) => {
      if (pending || settled) return;
      pending = outcome;
      if (close) {
        try {
          socket.close(1000, outcome.kind === "interrupted" ? "interrupted" : "done");
        } catch {}
      }
      closeTimer = setTimeout(() => settle(outcome), closeWait);
    };
    const onInterrupt = () => finish({ kind: "interrupted" }, true);
    const reply = (message: ResultMessage) => {
      if (socket.readyState === OPEN && !pending) socket.send(JSON.stringify(message));
    };

    socket.addEventListener("open", () => {
      opened = true;
      pinger = setInterval(() => {
        if (socket.readyState === OPEN && !pending) socket.send(PING);
      }, pingEvery);
      (pinger as { unref?: () => void }).unref?.();
    });
    socket.addEventListener("message", (event) => {
      if (pending) return;
      const step = session.handle(event.data, reply);
      if (step.kind === "exit") finish(step, true);
    });
    socket.addEventListener("error", (failure) => {
      // A failed upgrade ends the attempt here, with the server's answer or the network's error.
      // Once open, a close event follows; the timer covers a socket where it does not.
      if (!opened) settle(pending ?? { kind: "dropped", opened: false, ready: false, code: 1006, reason: "", failure });
      else if (!pending)
        closeTimer = setTimeout(
          () => settle({ kind: "dropped", opened, ready: session.readyCount > readyBefore, code: 1006, reason: "" }),
          closeWait,
        );
    });
    socket.addEventListener("close", (event) => {
      settle(pending ?? { kind: "dropped", opened, ready: session.readyCount > readyBefore, code: event.code, reason: event.reason });
    });
    if (io.interrupt.aborted) onInterrupt();
    else io.interrupt.addEventListener("abort", onInterrupt, { once: true });
  });
}

/**
 * Why the upgrade failed, from the answer to the upgrade request itself: a refusal's status and
 * problem document (401, 403, 404, 409, 422…), else the network's error. A 4xx refusal is final;
 * 408, 429, 5xx and network errors may pass (a restart, a blip, a rate limit's window).
 */
function whyNotOpen(failure: SocketErrorEvent | undefined, baseUrl: string): { message: string; refused: boolean } {
  const refusal = failure?.refusal;
  if (refusal) {
    const refused = refusal.status >= 400 && refusal.status < 500 && refusal.status !== 408 && refusal.status !== 429;
    return { message: describeHttpError(refusal.status, refusal.body, refusal.statusText), refused };
  }
  const error = failure?.error;
  if (error && errorCode(error) === undefined) {
    return { message: oneLine(`the WebSocket to ${trimBase(baseUrl)}/v1/listen failed: ${error.message}`), refused: false };
  }
  return { message: `cannot reach ${trimBase(baseUrl)}: ${error ? describeNetworkError(error) : "the connection failed"}`, refused: false };
}

function closeText(outcome: { code: number; reason: string }): string {
  return `code ${outcome.code}${outcome.reason ? `: ${outcome.reason}` : ""}`;
}

const formatDelay = (ms: number) =>
  ms >= 60_000 ? `${Math.round(ms / 6000) / 10} minutes` : ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;

/** Waits `ms`; true when interrupted first. */
function sleep(ms: number, interrupt: AbortSignal): Promise<boolean> {
  if (interrupt.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      interrupt.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    interrupt.addEventListener("abort", onAbort, { once: true });
  });
}
