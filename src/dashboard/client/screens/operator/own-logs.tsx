import { disabledWhy } from "../../format";
import { useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../../ui";
import { AuditTable } from "./audit-table";

/** "Operator endpoints": the operator's own webhooks (every tenant's events, or the tenants named). */
export function OwnEndpointsScreen() {
  const list = useList("/admin/webhooks", operatorPages.endpoints(50));
  return (
    <section aria-labelledby="opwh-h">
      <h1 id="opwh-h">Operator endpoints</h1>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="endpoints" loading={list.loading} />
      ) : (
        <DataTable caption="The operator's endpoints" columns={["URL", "Status", "Event types", "Tenants"]}>
          {list.items.map((w) => (
            <tr key={w.id}>
              <Cell label="URL">
                <span class="mono url">{w.url}</span>
              </Cell>
              <Cell label="Status">{w.isEnabled ? "Enabled" : `Disabled: ${disabledWhy(w.disabledReason)}`}</Cell>
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
