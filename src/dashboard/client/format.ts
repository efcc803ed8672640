/** How the page writes times, durations and JSON. */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso: string | null | undefined, none = "Never"): string {
  if (!iso) return none;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A response time, always in milliseconds (the log's column compares them). */
export function millis(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "–" : `${ms} ms`;
}

/** Pretty-prints a JSON text; other text is shown as it is. */
export function prettyJson(text: string | null | undefined): string {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

const REASONS: Record<string, string> = {
  circuit_breaker: "too many failed attempts in a row (circuit breaker)",
  gone: "the endpoint answered 410 Gone",
  manual: "turned off",
};

export function disabledWhy(reason: string | null): string {
  return reason ? (REASONS[reason] ?? reason.replaceAll("_", " ")) : "turned off";
}
