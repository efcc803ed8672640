import { useState } from "hono/jsx/dom";
import { hookgate, unwrap } from "../../api";
import { when } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, Field, LoadMore, SecretOnce } from "../../ui";

/** "Tenants": every tenant, searchable by part of its name or its whole id; "Create tenant" shows the first key once. */
export function TenantsScreen() {
  const [typed, setTyped] = useState("");
  const [search, setSearch] = useState("");
  const list = useList(`/admin/tenants?search=${search}`, operatorPages.tenants(50, search));
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);

  return (
    <section aria-labelledby="tenants-h">
      <h1 id="tenants-h">Tenants</h1>
      {!creating && !shown ? (
        <button type="button" onClick={() => setCreating(true)}>
          Create tenant
        </button>
      ) : null}
      {creating ? (
        <CreateTenantForm
          onCancel={() => setCreating(false)}
          onCreated={(name, key) => {
            setCreating(false);
            setShown({ label: `First key of ${name}`, value: key });
            list.reload();
          }}
        />
      ) : null}
      {shown ? <SecretOnce label={shown.label} value={shown.value} onDone={() => setShown(null)} /> : null}
      <form
        class="filters"
        aria-label="Search tenants"
        onSubmit={(e: Event) => {
          e.preventDefault();
          setSearch(typed.trim());
        }}
      >
        <Field label="Name or id">
          {(id) => <input id={id} type="search" value={typed} onInput={(e: Event) => setTyped((e.target as HTMLInputElement).value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="secondary">
            Search
          </button>
        </div>
      </form>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        list.loading ? (
          <Empty what="tenants" loading />
        ) : (
          <p class="hint">{search ? `No tenant matches “${search}”.` : "No tenants yet."}</p>
        )
      ) : (
        <DataTable caption="Tenants" columns={["Name", "Id", "Created", "API access"]}>
          {list.items.map((t) => (
            <tr key={t.id}>
              <Cell label="Name">
                <a href={`#/tenants/${encodeURIComponent(t.id)}/settings`}>{t.name}</a>
              </Cell>
              <Cell label="Id">
                <span class="mono">{t.id}</span>
              </Cell>
              <Cell label="Created">{when(t.createdAt)}</Cell>
              <Cell label="API access">{t.apiAccess ? "On" : "Off"}</Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

function CreateTenantForm({ onCreated, onCancel }: { onCreated: (name: string, key: string) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const created = await action.run(() => unwrap(hookgate().POST("/admin/tenants", { body: { name } })));
    if (created) onCreated(created.tenant.name, created.key.key);
  };
  return (
    <form class="panel" onSubmit={submit}>
      <h2>Create tenant</h2>
      <Field label="Tenant name">
        {(id) => (
          <input id={id} required maxLength={100} value={name} onInput={(e: Event) => setName((e.target as HTMLInputElement).value)} />
        )}
      </Field>
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Create tenant
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
