import { useEffect, useId, useState } from "hono/jsx/dom";
import { hookgate, messageOf, type SeriesPoint, unwrap } from "./api";

const WINDOWS = [
  { id: "24h", label: "24 h", span: "the last 24 hours" },
  { id: "7d", label: "7 d", span: "the last 7 days" },
] as const;

const W = 336;
const H = 96;

/** Delivered vs failed attempts of one endpoint per hour (24 h) or day (7 d), from its stats' series. */
export function DeliveryChart({ webhookId, label }: { webhookId: string; label: string }) {
  const id = useId();
  const [window, setWindow] = useState<"24h" | "7d">("24h");
  // The series with the window it was loaded for: the caption never names a span the bars do not show.
  const [loaded, setLoaded] = useState<{ window: "24h" | "7d"; series: SeriesPoint[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    unwrap(hookgate().GET("/v1/webhooks/{id}/stats", { params: { path: { id: webhookId }, query: { window } } }))
      .then((s) => {
        if (!live) return;
        setLoaded({ window, series: s.series });
        setError(null);
      })
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [webhookId, window]);

  const series = loaded?.series ?? null;
  const span = WINDOWS.find((w) => w.id === (loaded?.window ?? window))!.span;
  const delivered = series?.reduce((n, p) => n + p.succeeded, 0) ?? 0;
  const failed = series?.reduce((n, p) => n + p.failed, 0) ?? 0;
  const top = Math.max(1, ...(series ?? []).map((p) => p.succeeded + p.failed));
  const slot = series && series.length > 0 ? W / series.length : W;
  const bar = Math.max(2, slot - 2);
  return (
    <figure class="chart" aria-labelledby={`${id}-cap`}>
      <div class="chart-head">
        <p id={`${id}-cap`} class="caption">
          {loaded || error ? `Delivered ${delivered}, failed ${failed} in ${span}` : "Loading…"}
        </p>
        <fieldset class="toggle">
          <legend class="sr-only">Chart span for {label}</legend>
          {WINDOWS.map((w) => (
            <button type="button" class="secondary" aria-pressed={w.id === window ? "true" : "false"} onClick={() => setWindow(w.id)}>
              {w.label}
            </button>
          ))}
        </fieldset>
      </div>
      {error ? <p class="error">{error}</p> : null}
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Delivered ${delivered} and failed ${failed} attempts in ${span}`}
        preserveAspectRatio="none"
      >
        {(series ?? []).map((p, i) => {
          const ok = (p.succeeded / top) * (H - 4);
          const bad = (p.failed / top) * (H - 4);
          const x = i * slot + 1;
          return (
            <g>
              <title>{`${new Date(p.start).toLocaleString()}: ${p.succeeded} delivered, ${p.failed} failed`}</title>
              <rect class="bg" x={x} y={0} width={bar} height={H} />
              <rect class="ok" x={x} y={H - ok} width={bar} height={ok} />
              <rect class="bad" x={x} y={H - ok - bad} width={bar} height={bad} />
            </g>
          );
        })}
      </svg>
      <p class="legend">
        <span class="key ok" aria-hidden="true" /> Delivered <span class="key bad" aria-hidden="true" /> Failed · one bar per{" "}
        {(loaded?.window ?? window) === "24h" ? "hour" : "day"}, now on the right
      </p>
    </figure>
  );
}
