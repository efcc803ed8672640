import { hookgate, unwrap } from "../../api";
import { disabledWhy } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../../ui";
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
  const list = useList("/admin/audit-log", operatorPages.operatorAudit(50));
  return (
    <section aria-labelledby="opaudit-h">
      <h1 id="opaudit-h">Operator audit log</h1>
      <AuditTable list={list} caption="The operator's audit log, newest first" />
    </section>
  );
}
