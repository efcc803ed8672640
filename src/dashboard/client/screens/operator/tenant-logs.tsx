import { useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { AuditTable } from "./audit-table";

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
