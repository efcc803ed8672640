import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, hookgate, messageOf, unwrap } from "../../api";
import { useAction } from "../../hooks";
import { Cell, Confirm, DataTable, Empty, ErrorNote, Field } from "../../ui";

type Scope = { name: string; description: string | null };

/** "Product scopes": the scopes of the operator's own product that tenants' keys may hold; add and remove. */
export function ProductScopesScreen() {
  const [scopes, setScopes] = useState<Scope[] | null>(null);
  const [removing, setRemoving] = useState<Scope | null>(null);
  const [status, setStatus] = useState("");
  const action = useAction();
  useEffect(() => {
    action.run(() => unwrap(hookgate().GET("/admin/scopes"))).then((list) => list && setScopes(list.data));
  }, []);

  /** The whole list goes back in one PUT (the API replaces it), each scope as written: its name and description only. */
  const save = (next: Scope[]) =>
    unwrap(hookgate().PUT("/admin/scopes", { body: { scopes: next.map(({ name, description }) => ({ name, description })) } })).then(
      (list) => setScopes(list.data),
    );
  const remove = async () => {
    const gone = removing;
    setRemoving(null);
    if (!gone || !scopes) return;
    await action.run(() => save(scopes.filter((s) => s.name !== gone.name)));
    setStatus(`${gone.name} is removed.`);
  };

  return (
    <section aria-labelledby="pscopes-h">
      <h1 id="pscopes-h">Product scopes</h1>
      <p role="status" class="hint">
        {status}
      </p>
      <ErrorNote error={action.error} />
      {!scopes || scopes.length === 0 ? (
        <Empty what="product scopes" loading={scopes === null && !action.error} />
      ) : (
        <DataTable caption="Product scopes" columns={["Scope", "Description", "Actions"]}>
          {scopes.map((s) => (
            <tr key={s.name}>
              <Cell label="Scope">
                <span class="mono">{s.name}</span>
              </Cell>
              <Cell label="Description">{s.description ?? "–"}</Cell>
              <Cell label="Actions">
                <button type="button" class="danger" aria-label={`Remove ${s.name}`} disabled={action.busy} onClick={() => setRemoving(s)}>
                  Remove
                </button>
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      {scopes ? (
        <AddScope
          onAdd={async (scope) => {
            await save([...scopes, scope]);
            setStatus(`${scope.name} is added.`);
          }}
        />
      ) : null}
      {removing ? (
        <Confirm
          title={`Remove ${removing.name}?`}
          message="Keys that hold this scope keep it in their list, but it grants nothing from now on."
          action="Remove"
          onConfirm={remove}
          onCancel={() => setRemoving(null)}
        />
      ) : null}
    </section>
  );
}

function AddScope({ onAdd }: { onAdd: (s: Scope) => Promise<void> }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onAdd({ name: name.trim(), description: description.trim() || null });
      setName("");
      setDescription("");
    } catch (err) {
      const fields = err instanceof ApiError ? err.problem.errors?.map((f) => f.message).join("; ") : null;
      setError(fields || messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="addscope-h">
      <h2 id="addscope-h">Add scope</h2>
      <Field label="Scope name" hint="resource:action, lowercase (e.g. tests:read)">
        {(id) => <input id={id} required value={name} onInput={(e: Event) => setName((e.target as HTMLInputElement).value)} />}
      </Field>
      <Field label="Description (optional)">
        {(id) => <input id={id} value={description} onInput={(e: Event) => setDescription((e.target as HTMLInputElement).value)} />}
      </Field>
      <ErrorNote error={error} />
      <button type="submit" disabled={busy}>
        Add scope
      </button>
    </form>
  );
}
