/** `hookgate trigger <type> [--data <json>]`: publishes an event and lists its deliveries. */
import { createHookgateClient } from "../client/index.js";
import { CliError, type CliIO, describeHttpError, describeNetworkError, trimBase } from "./io.js";

export interface TriggerOptions {
  baseUrl: string;
  apiKey: string;
  type: string;
  /** JSON text, `@file` or `@-` (stdin); `{}` when absent. */
  data?: string;
  idempotencyKey?: string;
}

export async function trigger(options: TriggerOptions, io: CliIO): Promise<number> {
  const data = await readData(options.data, io);
  const client = createHookgateClient({ baseUrl: options.baseUrl, apiKey: options.apiKey, fetch: (request) => io.fetch(request) });
  const result = await client
    .POST("/v1/events", {
      body: { type: options.type, data },
      signal: io.interrupt,
      ...(options.idempotencyKey !== undefined && { params: { header: { "idempotency-key": options.idempotencyKey } } }),
    })
    .catch((err: unknown) => {
      if (io.interrupt.aborted) throw new CliError("interrupted; the event may or may not have been published", 130);
      throw new CliError(`cannot reach ${trimBase(options.baseUrl)}: ${describeNetworkError(err)}`);
    });
  const { data: event, error, response } = result;
  if (!event) throw new CliError(describeHttpError(response.status, error, response.statusText));

  const n = event.deliveries.length;
  io.out(`${event.id}  ${event.type}  ${n === 1 ? "1 delivery" : `${n} deliveries`}`);
  if (n === 0) io.err(`hookgate: no enabled subscription takes ${event.type}, so nothing was delivered`);
  for (const d of event.deliveries) io.out(`${d.id}  ${d.webhookId}  ${d.status}`);
  return 0;
}

async function readData(text: string | undefined, io: CliIO): Promise<unknown> {
  if (text === undefined) return {};
  let source = "--data";
  if (text.startsWith("@")) {
    const file = text.slice(1);
    source = file === "-" ? "stdin" : file;
    try {
      text = await io.readText(file);
    } catch (err) {
      throw new CliError(`cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${source} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, 2);
  }
}
