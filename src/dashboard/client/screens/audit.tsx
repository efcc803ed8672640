import { when } from "../format";
import { useList } from "../hooks";
import { pages } from "../lists";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../ui";
import type { ScreenProps } from "./screen";

/** "Audit log": who changed what, newest first; each actor by name (a key's, "Operator", a staff member's email) with its id. */
export function AuditScreen(_: ScreenProps) {
  const list = useList("/v1/audit-log?limit=50", pages.auditLog(50));
  return (
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">Audit log</h1>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="entries" loading={list.loading} />
      ) : (
        <DataTable caption="Audit log, newest first" columns={["Time", "Action", "Target", "Actor", "IP"]}>
          {list.items.map((e) => (
            <tr key={e.id}>
              <Cell label="Time">{when(e.at)}</Cell>
              <Cell label="Action">
                <span class="mono">{e.action}</span>
              </Cell>
              <Cell label="Target">
                <span class="mono">{e.target}</span>
              </Cell>
              <Cell label="Actor">
                <span class="name">{e.actorName ?? "Unknown"}</span>
                {e.actorName !== e.actor ? <span class="hint mono block">{e.actor}</span> : null}
              </Cell>
              <Cell label="IP">{e.ip ?? "–"}</Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
