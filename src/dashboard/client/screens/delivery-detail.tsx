import { useEffect, useId, useState } from "hono/jsx/dom";
import { type Attempt, type Delivery, hookgate, messageOf, unwrap } from "../api";
import { headerLines, millis, prettyJson, when } from "../format";
import { deliveryState, retryUnavailable } from "../forms";
import { useAction } from "../hooks";
import { ErrorNote, focusOnMount } from "../ui";

type Detail = Delivery & { attempts: Attempt[] };

/**
 * One delivery with every attempt: the request headers and the full payload sent, the response
 * received; when a pending one is due again; "Retry", or why it is unavailable.
 */
export function DeliveryDetail(props: {
  id: string;
  endpoint: (id: string) => string;
  /** The endpoint's state (null: deleted; undefined: not known yet). */
  endpointState: (id: string) => { isEnabled: boolean } | null | undefined;
  canRetry: boolean;
  onBack: () => void;
}) {
  const reasonId = useId();
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
  const unavailable = detail ? retryUnavailable(detail, props.endpointState(detail.webhookId), props.canRetry) : null;

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
            <dt>Created</dt>
            <dd>{when(detail.createdAt)}</dd>
            <dt>Status</dt>
            <dd class="delivery-state">{deliveryState(detail, (iso) => when(iso))}</dd>
          </dl>
          {props.canRetry ? (
            <div class="actions">
              <button
                type="button"
                disabled={action.busy || unavailable !== null}
                aria-describedby={unavailable ? reasonId : undefined}
                onClick={retry}
              >
                Retry
              </button>
            </div>
          ) : null}
          {props.canRetry && unavailable ? (
            <p id={reasonId} class="hint retry-why">
              {unavailable}
            </p>
          ) : null}
          {queued ? <p role="status">Retry queued: one more attempt is on its way.</p> : null}
          <h2>Attempts</h2>
          {detail.attempts.length === 0 ? <p class="hint">No attempt yet.</p> : null}
          <ol class="attempts" aria-label="Attempts">
            {detail.attempts.map((a) => (
              <li>
                <h3>
                  Attempt {a.attempt}: {a.statusCode ?? a.error ?? "no answer"} in {millis(a.durationMs)}
                </h3>
                <p class="hint">{when(a.at)}</p>
                <h4>Request headers</h4>
                <pre>{headerLines(a.requestHeaders)}</pre>
                <h4>Payload</h4>
                <pre>{prettyJson(a.requestBody)}</pre>
                <h4>Response</h4>
                <pre>{a.responseBody ?? (a.error ? `(${a.error})` : "(empty)")}</pre>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
