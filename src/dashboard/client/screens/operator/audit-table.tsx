import type { AuditEntry } from "../../api";
import { when } from "../../format";
import type { ListState } from "../../hooks";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../../ui";

/** An audit log as a table: time, action, target, actor, IP. */
export function AuditTable({ list, caption }: { list: ListState<AuditEntry>; caption: string }) {
  return (
    <>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="entries" loading={list.loading} />
      ) : (
        <DataTable caption={caption} columns={["Time", "Action", "Target", "Actor", "IP"]}>
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
                <span class="mono">{e.actor}</span>
              </Cell>
              <Cell label="IP">{e.ip ?? "–"}</Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </>
  );
}
