import { useEffect, useState } from "hono/jsx/dom";
import { type Attempt, type Delivery, hookgate, messageOf, unwrap } from "../api";
import { duration, headerLines, prettyJson, when } from "../format";
import { useAction } from "../hooks";
import { ErrorNote, focusOnMount } from "../ui";

type Detail = Delivery & { attempts: Attempt[] };

/** One delivery with every attempt: the request sent and the response received, and "Retry". */
export function DeliveryDetail(props: { id: string; endpoint: (id: string) => string; canRetry: boolean; onBack: () => void }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const [queued, setQueued] = useState(false);
  const action = useAction();
  useEffect(() => {
    unwrap(hookgate().GET("/v1/deliveries/{id}", { params: { path: { id: props.id } } }))
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e) => setError(messageOf(e)));
  }, [props.id, nonce]);

  const retry = async () => {
    const done = await action.run(() => unwrap(hookgate().POST("/v1/deliveries/{id}/retry", { params: { path: { id: props.id } } })));
    if (done !== undefined) {
      setQueued(true);
      setTimeout(() => setNonce((n) => n + 1), 1500);
    }
  };

  return (
    <section aria-labelledby="delivery-h">
      <button type="button" class="link" onClick={props.onBack}>
        ← Delivery log
      </button>
      <h1 id="delivery-h" tabIndex={-1} ref={focusOnMount}>
        Delivery {props.id}
      </h1>
      <ErrorNote error={error ?? action.error} />
      {detail ? (
        <>
          <dl class="facts">
            <dt>Event</dt>
            <dd class="mono">
              {detail.eventType} · {detail.eventId}
            </dd>
            <dt>Endpoint</dt>
            <dd class="url">{props.endpoint(detail.webhookId)}</dd>
            <dt>Status</dt>
            <dd>
              {detail.status} after {detail.attemptCount} attempt{detail.attemptCount === 1 ? "" : "s"}
            </dd>
          </dl>
          {props.canRetry ? (
            <button type="button" disabled={action.busy || detail.status === "pending"} onClick={retry}>
              Retry
            </button>
          ) : null}
          {queued ? <p role="status">Retry queued: one more attempt is on its way.</p> : null}
          <h2>Attempts</h2>
          {detail.attempts.length === 0 ? <p class="hint">No attempt yet.</p> : null}
          <ol class="attempts" aria-label="Attempts">
            {detail.attempts.map((a) => (
              <li>
                <h3>
                  Attempt {a.attempt}: {a.statusCode ?? a.error ?? "no answer"} in {duration(a.durationMs)}
                </h3>
                <p class="hint">{when(a.at)}</p>
                <details>
                  <summary>Request</summary>
                  <pre>{headerLines(a.requestHeaders)}</pre>
                  <pre>{prettyJson(a.requestBody)}</pre>
                </details>
                <details open>
                  <summary>Response</summary>
                  <pre>{a.responseBody ?? (a.error ? `(${a.error})` : "(empty)")}</pre>
                </details>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
