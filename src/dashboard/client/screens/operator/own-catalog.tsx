import { useState } from "hono/jsx/dom";
import { type EventType, hookgate, unwrap } from "../../api";
import { when } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, Confirm, DataTable, Empty, ErrorNote, Field, LoadMore } from "../../ui";

/** "Event catalog": the operator's event types, which every tenant may subscribe to; add, deprecate, archive. */
export function EventCatalogScreen() {
  const list = useList("/admin/event-types", operatorPages.eventCatalog(50));
  const [archiving, setArchiving] = useState<EventType | null>(null);
  const [status, setStatus] = useState("");
  const action = useAction();
  const path = (name: string) => ({ params: { path: { name } } });

  const deprecate = async (t: EventType) => {
    const done = await action.run(() =>
      unwrap(hookgate().PATCH("/admin/event-types/{name}", { ...path(t.name), body: { deprecated: !t.deprecated } })),
    );
    if (done) setStatus(`${t.name} is ${done.deprecated ? "deprecated" : "no longer deprecated"}.`);
    list.reload();
  };
  const archive = async () => {
    const t = archiving;
    setArchiving(null);
    if (!t) return;
    const done = await action.run(() => unwrap(hookgate().DELETE("/admin/event-types/{name}", path(t.name))).then(() => true));
    if (done) setStatus(`${t.name} is archived.`);
    list.reload();
  };

  return (
    <section aria-labelledby="catalog-h">
      <h1 id="catalog-h">Event catalog</h1>
      <p role="status" class="hint">
        {status}
      </p>
      <ErrorNote error={action.error ?? list.error} />
      {list.items.length === 0 ? (
        <Empty what="event types" loading={list.loading} />
      ) : (
        <DataTable caption="The operator's event types" columns={["Name", "Description", "State", "Created", "Actions"]}>
          {list.items.map((t) => (
            <tr key={t.name}>
              <Cell label="Name">
                <span class="mono">{t.name}</span>
              </Cell>
              <Cell label="Description">{t.description ?? "–"}</Cell>
              <Cell label="State">{t.archived ? "Archived" : t.deprecated ? "Deprecated" : "Active"}</Cell>
              <Cell label="Created">{when(t.createdAt)}</Cell>
              <Cell label="Actions">
                {t.archived ? null : (
                  <div class="actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`${t.deprecated ? "Undeprecate" : "Deprecate"} ${t.name}`}
                      disabled={action.busy}
                      onClick={() => deprecate(t)}
                    >
                      {t.deprecated ? "Undeprecate" : "Deprecate"}
                    </button>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Archive ${t.name}`}
                      disabled={action.busy}
                      onClick={() => setArchiving(t)}
                    >
                      Archive
                    </button>
                  </div>
                )}
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
      <AddEventType
        onAdded={(name) => {
          setStatus(`${name} is added.`);
          list.reload();
        }}
      />
      {archiving ? (
        <Confirm
          title={`Archive ${archiving.name}?`}
          message="No new event of this type is accepted and endpoints can no longer subscribe to it; its past events stay."
          action="Archive"
          onConfirm={archive}
          onCancel={() => setArchiving(null)}
        />
      ) : null}
    </section>
  );
}

function AddEventType({ onAdded }: { onAdded: (name: string) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { name: name.trim(), ...(description.trim() && { description: description.trim() }) };
    const created = await action.run(() => unwrap(hookgate().POST("/admin/event-types", { body })));
    if (!created) return;
    setName("");
    setDescription("");
    onAdded(created.name);
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="addtype-h">
      <h2 id="addtype-h">Add event type</h2>
      <Field label="Event type name" hint="e.g. invoice.paid">
        {(id) => <input id={id} required value={name} onInput={(e: Event) => setName((e.target as HTMLInputElement).value)} />}
      </Field>
      <Field label="Description (optional)">
        {(id) => <input id={id} value={description} onInput={(e: Event) => setDescription((e.target as HTMLInputElement).value)} />}
      </Field>
      <ErrorNote error={action.error} />
      <button type="submit" disabled={action.busy}>
        Add event type
      </button>
    </form>
  );
}
