import { duration, when } from "../../format";
import { useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../../ui";
import { AuditTable } from "./audit-table";

/** "Delivery log": the tenant's deliveries, newest first. */
export function TenantDeliveries({ tenantId }: { tenantId: string }) {
  const list = useList(`/admin/tenants/${tenantId}/deliveries`, operatorPages.deliveries(tenantId, 50));
  return (
    <section aria-labelledby="tdel-h">
      <h2 id="tdel-h">Delivery log</h2>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="deliveries" loading={list.loading} />
      ) : (
        <DataTable
          caption="The tenant's deliveries, newest first"
          columns={["Created", "Event type", "Endpoint", "Status", "Attempts", "Last answer"]}
        >
          {list.items.map((d) => (
            <tr key={d.id}>
              <Cell label="Created">{when(d.createdAt)}</Cell>
              <Cell label="Event type">
                <span class="mono">{d.eventType}</span>
              </Cell>
              <Cell label="Endpoint">
                <span class="mono">{d.webhookId}</span>
              </Cell>
              <Cell label="Status">{d.status}</Cell>
              <Cell label="Attempts">{d.attemptCount}</Cell>
              <Cell label="Last answer">
                {d.lastStatusCode ?? "–"} {d.lastDurationMs !== null ? `(${duration(d.lastDurationMs)})` : ""}
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

/** "Audit log": the tenant's log, newest first (the operator's changes show as `operator`). */
export function TenantAuditLog({ tenantId }: { tenantId: string }) {
  const list = useList(`/admin/tenants/${tenantId}/audit-log`, operatorPages.auditLog(tenantId, 50));
  return (
    <section aria-labelledby="taud-h">
      <h2 id="taud-h">Audit log</h2>
      <AuditTable list={list} caption="The tenant's audit log, newest first" />
    </section>
  );
}
