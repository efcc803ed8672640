import type { Mode } from "../../../../common/enums";
import { hookgate, unwrap, type Webhook } from "../../api";
import { disabledWhy, when } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Empty, ErrorNote, LoadMore } from "../../ui";

/** "Webhooks": the tenant's endpoints; the operator may switch one off or on, nothing else. */
export function TenantWebhooks({ tenantId, mode }: { tenantId: string; mode: Mode }) {
  const list = useList(`/admin/tenants/${tenantId}/webhooks?mode=${mode}`, operatorPages.webhooks(tenantId, 50, mode));
  return (
    <section aria-labelledby="twh-h">
      <h2 id="twh-h">Webhooks</h2>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="webhooks" loading={list.loading} />
      ) : (
        list.items.map((w) => <TenantWebhook key={w.id} tenantId={tenantId} mode={mode} webhook={w} onChanged={list.reload} />)
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

function TenantWebhook(props: { tenantId: string; mode: Mode; webhook: Webhook; onChanged: () => void }) {
  const { tenantId, mode, webhook: w, onChanged } = props;
  const action = useAction();
  const setEnabled = (isEnabled: boolean) =>
    action
      .run(() =>
        unwrap(
          hookgate().PATCH("/admin/tenants/{tenantId}/webhooks/{id}", {
            params: { path: { tenantId, id: w.id }, query: { mode } },
            body: { isEnabled },
          }),
        ),
      )
      .then(onChanged);
  const headingId = `wh-${w.id}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h3 id={headingId} class="url">
        {w.url}
      </h3>
      <dl class="facts">
        <dt>Status</dt>
        <dd>{w.isEnabled ? "Enabled" : `Disabled: ${disabledWhy(w.disabledReason)}`}</dd>
        <dt>Event types</dt>
        <dd class="mono">{w.eventTypes.length ? w.eventTypes.join(", ") : "All"}</dd>
        <dt>Created</dt>
        <dd>{when(w.createdAt)}</dd>
      </dl>
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
      <ErrorNote error={action.error} />
    </article>
  );
}
