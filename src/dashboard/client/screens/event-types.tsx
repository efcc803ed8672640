import { capitalise } from "../forms";
import { useList } from "../hooks";
import { pages } from "../lists";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "../ui";
import type { ScreenProps } from "./screen";

// `hookgate`: the platform's own operational events (alerts); the word stays out of a branded screen.
const OWNERS: Record<string, string> = { tenant: "You", operator: "Product", hookgate: "Platform" };

/** "Event types": the catalog the tenant can publish and subscribe to: name, description, owner, and the schema when opened. */
export function EventTypesScreen(_: ScreenProps) {
  const list = useList("/v1/event-types?limit=100", pages.eventTypes(100));
  return (
    <section aria-labelledby="types-h">
      <h1 id="types-h">Event types</h1>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="event types" loading={list.loading} />
      ) : (
        <DataTable caption="Event types" columns={["Name", "Description", "Owner", "Schema"]}>
          {list.items.map((t) => (
            <tr key={t.name}>
              <Cell label="Name">
                <span class="mono">{t.name}</span>
                {t.archived ? <span class="hint"> (archived)</span> : null}
                {t.deprecated ? <span class="hint"> (deprecated)</span> : null}
              </Cell>
              <Cell label="Description">{t.description ?? ""}</Cell>
              <Cell label="Owner">{OWNERS[t.owner ?? "tenant"] ?? capitalise(String(t.owner))}</Cell>
              <Cell label="Schema">
                {t.schema ? (
                  <details>
                    <summary>
                      Schema<span class="sr-only"> of {t.name}</span>
                    </summary>
                    <pre>{JSON.stringify(t.schema, null, 2)}</pre>
                  </details>
                ) : (
                  <span class="hint">Any JSON</span>
                )}
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
