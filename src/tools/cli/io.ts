/** What a command may touch: injected, so the commands run in tests without a process of their own. */
export interface CliIO {
  env: Record<string, string | undefined>;
  /** One line of output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  interrupt: AbortSignal;
  fetch: typeof fetch;
  /** The WebSocket class (NodeWebSocket, in websocket.ts). */
  WebSocket: WebSocketClass;
  /** Reads a file or stdin ("-") as text, for `--data @file`. */
  readText(path: string): Promise<string>;
  now(): Date;
}

/** A refused upgrade: the server's HTTP answer instead of 101. */
export type Refusal = { status: number; statusText: string; body: string };
/** The "error" event of a connection that never opened: the refusal, or why it failed (a network error). */
export type SocketErrorEvent = { refusal?: Refusal; error?: Error };

/** The parts of the WHATWG WebSocket the CLI uses, and an "error" event that carries a refused upgrade's answer. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: () => void): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "close", listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: "error", listener: (event: SocketErrorEvent) => void): void;
}

/** A WebSocket constructor that takes the upgrade request's `{ headers }`. */
export type WebSocketClass = new (url: string, init: { headers: Record<string, string> }) => SocketLike;

/** A failure to report as one line and a non-zero exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A mistake in the command line itself: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/**
 * One line for an HTTP error answer: `401 unauthorized: <detail>` from a problem document
 * (`{status, code, detail, errors?}`), `400 invalid_client: …` from an OAuth error, else the
 * status and the start of the body.
 */
export function describeHttpError(status: number, body: unknown, statusText = ""): string {
  if (typeof body === "string") {
    try {
      body = JSON.parse(body) as unknown;
    } catch {}
  }
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const p = body as Record<string, unknown>;
    const code = typeof p.code === "string" ? p.code : typeof p.error === "string" ? p.error : undefined;
    const detail =
      typeof p.detail === "string"
        ? p.detail
        : typeof p.error_description === "string"
          ? p.error_description
          : typeof p.title === "string"
            ? p.title
            : undefined;
    const fields = Array.isArray(p.errors)
      ? p.errors
          .filter((e): e is { path?: unknown; message: string } => typeof e?.message === "string")
          .map((e) => (typeof e.path === "string" && e.path !== "" ? `${e.path}: ${e.message}` : e.message))
      : [];
    if (code || detail) {
      const head = `${status} ${code ?? statusText}`.trim();
      // Often the detail already is the first field's message: say it once.
      fields.splice(0, fields.length, ...fields.filter((f) => !detail?.includes(f)));
      const more = fields.length > 0 ? ` (${fields.slice(0, 3).join("; ")}${fields.length > 3 ? "; …" : ""})` : "";
      const scope = typeof p.requiredScope === "string" ? ` (needs ${p.requiredScope})` : "";
      return oneLine(`${head}: ${detail ?? "(no detail)"}${more}${scope}`);
    }
  }
  const text = typeof body === "string" ? body.trim() : "";
  return oneLine(`${status} ${statusText}`.trim() + (text ? `: ${text.slice(0, 200)}` : ""));
}

/** A thrown fetch error as a short reason: "connection refused", "DNS lookup failed", … */
export function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "DNS lookup failed";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "connection timed out";
  }
  const message = err instanceof Error ? (causeOf(err)?.message ?? err.message) : String(err);
  return oneLine(code ? `${message} (${code})` : message);
}

/** The `code` of an error or of its cause (Node's fetch wraps socket errors as `TypeError: fetch failed`). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = causeOf(e), depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function causeOf(err: unknown): Error | undefined {
  const cause = (err as { cause?: unknown })?.cause;
  return cause instanceof Error ? cause : undefined;
}

export const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, " ").trim();

/** The base URL without trailing slashes (a path prefix, if any, is kept). */
export const trimBase = (url: string) => url.replace(/\/+$/, "");
