/** The `hookgate` command line: arguments, configuration, dispatch, and errors as one line. */
import { parseArgs } from "node:util";
import { CliError, type CliIO, oneLine, UsageError } from "./io.js";
import { listen } from "./listen.js";
import { trigger } from "./trigger.js";
import { VERSION } from "./version.js";

export const USAGE = `hookgate ${VERSION}: the command line for a Hookgate deployment

Usage:
  hookgate trigger <type> [--data <json> | --data @file.json | --data @-] [--idempotency-key <key>]
      Publish an event (data defaults to {}) and print its id and deliveries.
  hookgate listen --forward-to <url> [--events a.b,c.d] [--session lsn_…] [--print-secret]
      Receive a session's deliveries over a WebSocket and POST each to <url>, as Hookgate would.
      --session resumes a session (kept 10 minutes after its connection ends); --print-secret
      prints the session's signing secret and exits.

Options:
  --url <url>        the deployment, e.g. https://hookgate.example.com   (default: $HOOKGATE_URL)
  --api-key <key>    a tenant API key                                    (default: $HOOKGATE_API_KEY)
  -h, --help         show this help
  -v, --version      show the version`;

const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  data: { type: "string" },
  "idempotency-key": { type: "string" },
  "forward-to": { type: "string" },
  events: { type: "string" },
  session: { type: "string" },
  "print-secret": { type: "boolean" },
} as const;

const COMMAND_OPTIONS: Record<string, ReadonlySet<string>> = {
  trigger: new Set(["data", "idempotency-key"]),
  listen: new Set(["forward-to", "events", "session", "print-secret"]),
};
const GLOBAL_OPTIONS = new Set(["url", "api-key", "help", "version"]);

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };

/** Runs one command line; returns the exit code. Failures print one line to stderr. */
export async function run(argv: string[], io: CliIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`hookgate: ${err.message}`);
      return err.exitCode;
    }
    // A bug of ours: still one line, the stack only when asked for.
    io.err(`hookgate: unexpected error: ${oneLine(err instanceof Error ? err.message : String(err))}`);
    if (io.env.HOOKGATE_DEBUG && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (err) {
    throw new UsageError(parseArgsMessage(err));
  }
  if (values.version) {
    io.out(VERSION);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command "${command}" (commands: trigger, listen)`);
  for (const name of Object.keys(values)) {
    if (!allowed.has(name) && !GLOBAL_OPTIONS.has(name)) throw new UsageError(`hookgate ${command} takes no --${name}`);
  }
  const { baseUrl, apiKey } = connection(values, io);

  if (command === "trigger") {
    if (rest.length !== 1) throw new UsageError("hookgate trigger takes exactly one event type, e.g. hookgate trigger invoice.paid");
    return trigger(
      {
        baseUrl,
        apiKey,
        type: rest[0]!,
        ...(values.data !== undefined && { data: values.data }),
        ...(values["idempotency-key"] !== undefined && { idempotencyKey: values["idempotency-key"] }),
      },
      io,
    );
  }

  if (rest.length > 0) throw new UsageError(`hookgate listen takes no arguments (got "${rest[0]}")`);
  const printSecret = values["print-secret"] === true;
  const forwardTo = values["forward-to"];
  if (forwardTo === undefined && !printSecret)
    throw new UsageError("hookgate listen needs --forward-to <url>, e.g. http://localhost:3000/webhooks");
  if (forwardTo !== undefined) httpUrl(forwardTo, "--forward-to");
  const events = values.events
    ?.split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (values.events !== undefined && events?.length === 0)
    throw new UsageError("--events needs event types, e.g. --events invoice.paid,invoice.failed");
  if (values.session !== undefined && !/^lsn_[A-Za-z0-9_-]+$/.test(values.session)) {
    throw new UsageError(`--session takes a session id (lsn_…), not "${values.session.slice(0, 40)}"`);
  }
  return listen(
    {
      baseUrl,
      apiKey,
      printSecret,
      ...(forwardTo !== undefined && { forwardTo }),
      ...(events !== undefined && { events }),
      ...(values.session !== undefined && { session: values.session }),
    },
    io,
  );
}

function connection(values: Values, io: CliIO): { baseUrl: string; apiKey: string } {
  const url = values.url ?? io.env.HOOKGATE_URL;
  if (!url) throw new UsageError("HOOKGATE_URL is not set: export HOOKGATE_URL=https://hookgate.example.com, or pass --url");
  const apiKey = values["api-key"] ?? io.env.HOOKGATE_API_KEY;
  if (!apiKey) throw new UsageError("HOOKGATE_API_KEY is not set: export HOOKGATE_API_KEY=<a tenant API key>, or pass --api-key");
  return { baseUrl: httpUrl(url, values.url !== undefined ? "--url" : "HOOKGATE_URL"), apiKey };
}

function httpUrl(value: string, what: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (url?.protocol !== "http:" && url?.protocol !== "https:") {
    const hint = /^[\w.-]+(:\d+)?(\/|$)/.test(value) ? ` (did you mean http://${value}?)` : "";
    throw new UsageError(`${what} must be an http(s) URL: "${value}"${hint}`);
  }
  return value;
}

/** parseArgs' messages, shortened to the point. */
function parseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /'([^']+)'/.exec(message)?.[1];
    return `${option ? `unknown option ${option}` : message.split(". ")[0]!} (see hookgate --help)`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const option = /--[\w-]+/.exec(message)?.[0];
    return option ? `${option} needs a value` : message;
  }
  return message;
}
