import { useId, useState } from "hono/jsx/dom";
import { hookgate, type TestResult, unwrap, type Webhook } from "../api";
import { DeliveryChart } from "../chart";
import { disabledWhy, duration } from "../format";
import { useAction } from "../hooks";
import { Confirm, ErrorNote, SecretOnce } from "../ui";
import { WebhookVersion } from "./webhook-version";

/** One endpoint: URL, status and why, event types, the enable switch, "Send test", "Rotate secret", its chart. */
export function WebhookCard({ webhook: w, canWrite, onChanged }: { webhook: Webhook; canWrite: boolean; onChanged: () => void }) {
  const id = useId();
  const action = useAction();
  const [test, setTest] = useState<TestResult | null>(null);
  const [confirming, setConfirming] = useState(false);
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
  const rotate = async () => {
    setConfirming(false);
    const result = await action.run(() =>
      unwrap(hookgate().POST("/v1/webhooks/{id}/rotate-secret", { params: { path: { id: w.id } }, body: {} })),
    );
    if (result) setSecret(result.secret);
  };

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
            </>
          )}
        </dd>
        <dt>Event types</dt>
        <dd class="mono">{w.eventTypes.join(", ")}</dd>
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
          <button type="button" disabled={action.busy} onClick={sendTest}>
            Send test
          </button>
          <button type="button" class="secondary" disabled={action.busy} onClick={() => setConfirming(true)}>
            Rotate secret
          </button>
        </div>
      ) : null}
      <ErrorNote error={action.error} />
      {test ? (
        <div class="test-result" role="status">
          <p>
            {test.statusCode === null ? `No answer (${test.error ?? "error"})` : `Status ${test.statusCode}`} in {duration(test.durationMs)}
            {test.success ? " — delivered" : " — failed"}
          </p>
          <h3 class="sr-only">Response body</h3>
          <pre>{test.responseBody ?? ""}</pre>
        </div>
      ) : null}
      {secret ? <SecretOnce label={`New signing secret for ${w.url}`} value={secret} onDone={() => setSecret(null)} /> : null}
      <WebhookVersion webhook={w} canWrite={canWrite} onChanged={onChanged} />
      <DeliveryChart webhookId={w.id} label={w.url} />
      {confirming ? (
        <Confirm
          title="Rotate the signing secret?"
          message={`Deliveries to ${w.url} are signed with a new secret from now on; the current one stops signing at once.`}
          action="Rotate secret"
          onConfirm={rotate}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </article>
  );
}
