import { useEffect, useId, useState } from "hono/jsx/dom";
import { GRANULARITY_MS, type UsagePoint } from "../../common/usage";
import { hookgate, messageOf, unwrap } from "./api";

const WINDOWS = [
  { id: "24h", label: "24 h", span: "the last 24 hours", granularity: "hour", buckets: 24 },
  { id: "7d", label: "7 d", span: "the last 7 days", granularity: "day", buckets: 7 },
] as const;
type WindowId = (typeof WINDOWS)[number]["id"];

const W = 336;
const H = 96;

/** Whose requests: the tenant's (every credential) or one key's. */
export type UsageOf = { tenant: true } | { keyId: string };

function load(of: UsageOf, granularity: "hour" | "day"): Promise<{ data: UsagePoint[] }> {
  const query = { granularity };
  return "keyId" in of
    ? unwrap(hookgate().GET("/v1/keys/{id}/usage", { params: { path: { id: of.keyId }, query } }))
    : unwrap(hookgate().GET("/v1/usage", { params: { query } }));
}

/** The window's buckets oldest first, a zero bucket where no request was counted. */
function filled(points: UsagePoint[], w: (typeof WINDOWS)[number]): UsagePoint[] {
  const step = GRANULARITY_MS[w.granularity];
  const newest = Math.floor(Date.now() / step) * step;
  const byStart = new Map(points.map((p) => [Date.parse(p.start), p]));
  return Array.from({ length: w.buckets }, (_, i) => {
    const start = newest - (w.buckets - 1 - i) * step;
    return (
      byStart.get(start) ?? { start: new Date(start).toISOString(), total: 0, ok: 0, clientErrors: 0, rateLimited: 0, serverErrors: 0 }
    );
  });
}

/** Requests by outcome per hour (24 h) or day (7 d): succeeded bars, errors stacked on top, totals in words. */
export function UsageChart({ of, label }: { of: UsageOf; label: string }) {
  const id = useId();
  const [windowId, setWindowId] = useState<WindowId>("24h");
  const [loaded, setLoaded] = useState<{ windowId: WindowId; series: UsagePoint[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ofKey = "keyId" in of ? of.keyId : "tenant";
  useEffect(() => {
    let live = true;
    const w = WINDOWS.find((x) => x.id === windowId)!;
    load(of, w.granularity)
      .then((s) => {
        if (!live) return;
        setLoaded({ windowId, series: filled(s.data, w) });
        setError(null);
      })
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [ofKey, windowId]);

  const shown = WINDOWS.find((w) => w.id === (loaded?.windowId ?? windowId))!;
  const series = loaded?.series ?? [];
  const sum = (f: "total" | "ok" | "clientErrors" | "rateLimited" | "serverErrors") => series.reduce((n, p) => n + p[f], 0);
  const words = `${sum("total")} requests in ${shown.span}: ${sum("ok")} succeeded, ${sum("clientErrors")} client errors, ${sum("rateLimited")} rate limited, ${sum("serverErrors")} server errors`;
  const top = Math.max(1, ...series.map((p) => p.total));
  const slot = series.length > 0 ? W / series.length : W;
  const bar = Math.max(2, slot - 2);
  return (
    <figure class="chart" aria-labelledby={`${id}-cap`}>
      <div class="chart-head">
        <p id={`${id}-cap`} class="caption">
          {loaded || error ? words : "Loading…"}
        </p>
        <fieldset class="toggle">
          <legend class="sr-only">Chart span for {label}</legend>
          {WINDOWS.map((w) => (
            <button type="button" class="secondary" aria-pressed={w.id === windowId ? "true" : "false"} onClick={() => setWindowId(w.id)}>
              {w.label}
            </button>
          ))}
        </fieldset>
      </div>
      {error ? <p class="error">{error}</p> : null}
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={words} preserveAspectRatio="none">
        {series.map((p, i) => {
          const ok = (p.ok / top) * (H - 4);
          const bad = ((p.total - p.ok) / top) * (H - 4);
          const x = i * slot + 1;
          return (
            <g>
              <title>{`${new Date(p.start).toLocaleString()}: ${p.ok} succeeded, ${p.clientErrors} client errors, ${p.rateLimited} rate limited, ${p.serverErrors} server errors`}</title>
              <rect class="bg" x={x} y={0} width={bar} height={H} />
              <rect class="ok" x={x} y={H - ok} width={bar} height={ok} />
              <rect class="bad" x={x} y={H - ok - bad} width={bar} height={bad} />
            </g>
          );
        })}
      </svg>
      <p class="legend">
        <span class="key ok" aria-hidden="true" /> Succeeded <span class="key bad" aria-hidden="true" /> Errors · one bar per{" "}
        {shown.granularity}, now on the right
      </p>
    </figure>
  );
}
