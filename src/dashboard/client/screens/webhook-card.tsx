import { useEffect, useId, useState } from "hono/jsx/dom";
import { hookgate, type TestResult, unwrap, type Webhook, type WebhookStats } from "../api";
import { DeliveryChart } from "../chart";
import { disabledWhy, millis, when } from "../format";
import { useAction } from "../hooks";
import { Confirm, ErrorNote, SecretOnce } from "../ui";
import { EndpointForm } from "./endpoint-form";
import { WebhookVersion } from "./webhook-version";

/** How many event types an endpoint receives, in words. */
const receives = (types: string[]) =>
  types.includes("*") ? "All event types" : `${types.length} event type${types.length === 1 ? "" : "s"}: ${types.join(", ")}`;

/** A tripped breaker's state: when its next probe goes out (only asked for when the breaker is why it is off). */
function useBreaker(w: Webhook): WebhookStats | null {
  const [stats, setStats] = useState<WebhookStats | null>(null);
  useEffect(() => {
    if (w.disabledReason !== "circuit_breaker") return;
    let live = true;
    unwrap(hookgate().GET("/v1/webhooks/{id}/stats", { params: { path: { id: w.id }, query: { window: "24h" } } }))
      .then((s) => live && setStats(s))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [w.id, w.disabledReason]);
  return stats;
}

type Pending = "rotate" | "delete" | null;

/**
 * One endpoint: URL, status and why (a tripped breaker's next probe), the event types it receives,
 * the enable switch, "Edit", "Delete", "Send test", "Rotate secret", "Deliveries" and its chart.
 */
export function WebhookCard(props: { webhook: Webhook; canWrite: boolean; catalog: boolean; onChanged: () => void }) {
  const { webhook: w, canWrite, onChanged } = props;
  const id = useId();
  const action = useAction();
  const breaker = useBreaker(w);
  const [test, setTest] = useState<TestResult | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [editing, setEditing] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);

  const setEnabled = (on: boolean) =>
    action
      .run(() => unwrap(hookgate().PATCH("/v1/webhooks/{id}", { params: { path: { id: w.id } }, body: { isEnabled: on } })))
      .then(onChanged);
  const sendTest = async () => {
    setTest(null);
    const result = await action.run(() => unwrap(hookgate().POST("/v1/webhooks/{id}/test", { params: { path: { id: w.id } }, body: {} })));
    if (result) setTest(result);
  };
  const confirmed = async () => {
    const what = pending;
    setPending(null);
    if (what === "delete") {
      const done = await action.run(() => unwrap(hookgate().DELETE("/v1/webhooks/{id}", { params: { path: { id: w.id } } })));
      if (done !== undefined) onChanged();
      return;
    }
    const result = await action.run(() =>
      unwrap(hookgate().POST("/v1/webhooks/{id}/rotate-secret", { params: { path: { id: w.id } }, body: {} })),
    );
    if (result) setSecret(result.secret);
  };

  if (editing) {
    return (
      <article class="card" aria-label={`Edit ${w.url}`}>
        <EndpointForm
          editing={w}
          catalog={props.catalog}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      </article>
    );
  }
  return (
    <article class="card" aria-labelledby={`${id}-url`}>
      <h2 id={`${id}-url`} class="url">
        {w.url}
      </h2>
      {w.description ? <p>{w.description}</p> : null}
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          {w.isEnabled ? (
            <span class="badge ok">Enabled</span>
          ) : (
            <>
              <span class="badge bad">Disabled</span> {disabledWhy(w.disabledReason)}
              {breaker?.nextProbeAt ? <span class="block">Next probe due {when(breaker.nextProbeAt)}</span> : null}
              {breaker?.state === "half_open" ? <span class="block">A probe is on its way now</span> : null}
            </>
          )}
        </dd>
        <dt>Event types</dt>
        <dd class="mono">{receives(w.eventTypes)}</dd>
        <dt>Payload format</dt>
        <dd>{w.format === "form" ? "Form Data" : "JSON"}</dd>
        <dt>Secret</dt>
        <dd class="mono">…{w.secretLast4}</dd>
      </dl>
      {canWrite ? (
        <div class="actions">
          <label class="switch">
            <input
              type="checkbox"
              role="switch"
              aria-checked={w.isEnabled ? "true" : "false"}
              checked={w.isEnabled}
              disabled={action.busy}
              onChange={(e: Event) => setEnabled((e.target as HTMLInputElement).checked)}
            />
            <span>Enabled</span>
          </label>
          <button type="button" class="secondary" disabled={action.busy || w.managedBy !== null} onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" disabled={action.busy} onClick={sendTest}>
            Send test
          </button>
          <button type="button" class="secondary" disabled={action.busy} onClick={() => setPending("rotate")}>
            Rotate secret
          </button>
          <button type="button" class="danger" disabled={action.busy} onClick={() => setPending("delete")}>
            Delete
          </button>
        </div>
      ) : null}
      <p>
        <a href={`#/deliveries/${encodeURIComponent(w.id)}`}>Deliveries</a>
      </p>
      <ErrorNote error={action.error} />
      {test ? (
        <div class="test-result" role="status">
          <p>
            {test.statusCode === null ? `No answer (${test.error ?? "error"})` : `Status ${test.statusCode}`} in {millis(test.durationMs)}
            {test.success ? " — delivered" : " — failed"}
          </p>
          <h3 class="sr-only">Response body</h3>
          <pre>{test.responseBody ?? ""}</pre>
        </div>
      ) : null}
      {secret ? <SecretOnce label={`New signing secret for ${w.url}`} value={secret} onDone={() => setSecret(null)} /> : null}
      <WebhookVersion webhook={w} canWrite={canWrite} onChanged={onChanged} />
      <DeliveryChart webhookId={w.id} label={w.url} />
      {pending ? (
        <Confirm
          title={pending === "delete" ? "Delete this endpoint?" : "Rotate the signing secret?"}
          message={
            pending === "delete"
              ? `${w.url} receives nothing more; its pending deliveries are cancelled. This cannot be undone.`
              : `Deliveries to ${w.url} are signed with a new secret from now on; the current one stops signing at once.`
          }
          action={pending === "delete" ? "Delete" : "Rotate secret"}
          onConfirm={confirmed}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </article>
  );
}
