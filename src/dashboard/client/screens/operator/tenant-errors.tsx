import { RequestErrorTable, RequestIdSearch } from "../../request-errors";

/** "Errors": the non-2xx answers the tenant's credentials got, and a lookup by the request id a customer sends support. */
export function TenantErrors({ tenantId }: { tenantId: string }) {
  return (
    <section aria-labelledby="terr-h">
      <h2 id="terr-h">Errors</h2>
      <RequestIdSearch tenantId={tenantId} />
      <RequestErrorTable tenantId={tenantId} caption="The tenant's request errors, newest first" />
    </section>
  );
}
