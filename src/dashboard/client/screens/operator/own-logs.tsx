import { useState } from "hono/jsx/dom";
import { hookgate, unwrap } from "../../api";
import { disabledWhy } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, Field, LoadMore } from "../../ui";
import { AuditTable } from "./audit-table";

/** "Operator endpoints": the operator's own webhooks (every tenant's events, or the tenants named). */
export function OwnEndpointsScreen() {
  const list = useList("/admin/webhooks", operatorPages.endpoints(50));
  const action = useAction();
  const setEnabled = (id: string, isEnabled: boolean) =>
    action.run(() => unwrap(hookgate().PATCH("/admin/webhooks/{id}", { params: { path: { id } }, body: { isEnabled } }))).then(list.reload);
  return (
    <section aria-labelledby="opwh-h">
      <h1 id="opwh-h">Operator endpoints</h1>
      <ErrorNote error={action.error ?? list.error} />
      {list.items.length === 0 ? (
        <Empty what="endpoints" loading={list.loading} />
      ) : (
        <DataTable caption="The operator's endpoints" columns={["URL", "Status", "Event types", "Tenants"]}>
          {list.items.map((w) => (
            <tr key={w.id}>
              <Cell label="URL">
                <span class="mono url">{w.url}</span>
              </Cell>
              <Cell label="Status">
                <label class="switch">
                  <input
                    type="checkbox"
                    role="switch"
                    aria-checked={w.isEnabled ? "true" : "false"}
                    aria-label={`Enabled: ${w.url}`}
                    checked={w.isEnabled}
                    disabled={action.busy}
                    onChange={(e: Event) => setEnabled(w.id, (e.target as HTMLInputElement).checked)}
                  />
                  <span>{w.isEnabled ? "Enabled" : `Disabled: ${disabledWhy(w.disabledReason)}`}</span>
                </label>
              </Cell>
              <Cell label="Event types">
                <span class="mono">{w.eventTypes.join(", ") || "All"}</span>
              </Cell>
              <Cell label="Tenants">
                <span class="mono">{w.tenantIds ? w.tenantIds.join(", ") : "Every tenant"}</span>
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

/** "Operator audit log": what the operator did, newest first. */
export function OwnAuditScreen() {
  const [typed, setTyped] = useState("");
  const [action, setAction] = useState("");
  const list = useList(`/admin/audit-log?action=${action}`, operatorPages.operatorAudit(50, action));
  return (
    <section aria-labelledby="opaudit-h">
      <h1 id="opaudit-h">Operator audit log</h1>
      <form
        class="filters"
        aria-label="Filter the log"
        onSubmit={(e: Event) => {
          e.preventDefault();
          setAction(typed.trim());
        }}
      >
        <Field label="Action" hint="e.g. key.revoked, tenant.created">
          {(id) => <input id={id} value={typed} onInput={(e: Event) => setTyped((e.target as HTMLInputElement).value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="secondary">
            Filter
          </button>
        </div>
      </form>
      <AuditTable list={list} caption="The operator's audit log, newest first" />
    </section>
  );
}
