import { useState } from "hono/jsx/dom";
import { hasScope, RESOURCE_SCOPES } from "../../../common/scopes";
import { type ApiKey, type CreateKey, hookgate, type NewApiKey, unwrap } from "../api";
import { when } from "../format";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, Confirm, DataTable, Empty, ErrorNote, Field, LoadMore, SecretOnce } from "../ui";
import type { ScreenProps } from "./screen";

type Pending = { kind: "rotate" | "revoke"; key: ApiKey } | null;

/** "API Keys": the tenant's keys; create (shown once), rotate and revoke (each confirmed). */
export function KeysScreen({ session }: ScreenProps) {
  const list = useList("/v1/keys?limit=50", pages.keys(50));
  const canWrite = allows(session, "keys:write");
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ label: string; value: string } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const action = useAction();

  const confirm = async () => {
    if (!pending) return;
    const { kind, key } = pending;
    setPending(null);
    if (kind === "revoke") {
      await action.run(() => unwrap(hookgate().DELETE("/v1/keys/{id}", { params: { path: { id: key.id } } })));
    } else {
      const fresh = await action.run(() =>
        unwrap(hookgate().POST("/v1/keys/{id}/rotate", { params: { path: { id: key.id } }, body: { graceSeconds: 3600 } })),
      );
      if (fresh) setShown({ label: `New key for ${fresh.name}`, value: fresh.key });
    }
    list.reload();
  };

  return (
    <section aria-labelledby="keys-h">
      <h1 id="keys-h">API Keys</h1>
      {canWrite && !creating && !shown ? (
        <button type="button" onClick={() => setCreating(true)}>
          Create key
        </button>
      ) : null}
      {creating ? (
        <CreateKeyForm
          held={session.scopes}
          onCancel={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setShown({ label: `New key ${k.name}`, value: k.key });
            list.reload();
          }}
        />
      ) : null}
      {shown ? <SecretOnce label={shown.label} value={shown.value} onDone={() => setShown(null)} /> : null}
      <ErrorNote error={action.error ?? list.error} />
      {list.items.length === 0 ? (
        <Empty what="keys" loading={list.loading} />
      ) : (
        <DataTable
          caption="API keys"
          columns={canWrite ? ["Name", "Created", "Last used", "Expires", "Actions"] : ["Name", "Created", "Last used", "Expires"]}
        >
          {list.items.map((k) => (
            <tr key={k.id}>
              <Cell label="Name">
                <span class="name">{k.name}</span>
                <span class="hint mono">
                  {k.start}… {k.id === session.credentialId ? "(this session's key)" : ""}
                </span>
              </Cell>
              <Cell label="Created">{when(k.createdAt)}</Cell>
              <Cell label="Last used">{when(k.lastUsedAt)}</Cell>
              <Cell label="Expires">{k.revokedAt ? `Rotated: stops ${when(k.revokedAt)}` : when(k.expiresAt, "Never")}</Cell>
              {canWrite ? (
                <Cell label="Actions">
                  <div class="actions">
                    <button type="button" class="secondary" disabled={action.busy} onClick={() => setPending({ kind: "rotate", key: k })}>
                      Rotate
                    </button>
                    <button type="button" class="danger" disabled={action.busy} onClick={() => setPending({ kind: "revoke", key: k })}>
                      Revoke
                    </button>
                  </div>
                </Cell>
              ) : null}
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
      {pending ? (
        <Confirm
          title={pending.kind === "revoke" ? `Revoke ${pending.key.name}?` : `Rotate ${pending.key.name}?`}
          message={
            pending.kind === "revoke"
              ? "Every request with this key is refused from now on. This cannot be undone."
              : "A new key with the same scopes is created; the current one keeps working for one hour."
          }
          action={pending.kind === "revoke" ? "Revoke" : "Rotate"}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
        />
      ) : null}
    </section>
  );
}

function CreateKeyForm({ held, onCreated, onCancel }: { held: string[]; onCreated: (k: NewApiKey) => void; onCancel: () => void }) {
  const grantable = RESOURCE_SCOPES.filter((s) => hasScope(held, s));
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(grantable.filter((s) => s.endsWith(":read")));
  const [expires, setExpires] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: CreateKey = { name, scopes };
    if (expires) body.expiresAt = new Date(`${expires}T23:59:59Z`).toISOString();
    const created = await action.run(() => unwrap(hookgate().POST("/v1/keys", { body })));
    if (created) onCreated(created);
  };
  const toggle = (s: string) => setScopes((old) => (old.includes(s) ? old.filter((x) => x !== s) : [...old, s]));
  return (
    <form class="panel" onSubmit={submit}>
      <h2>Create key</h2>
      <Field label="Name">
        {(id) => (
          <input id={id} required maxLength={100} value={name} onInput={(e: Event) => setName((e.target as HTMLInputElement).value)} />
        )}
      </Field>
      <fieldset>
        <legend>Scopes</legend>
        <div class="checks">
          {grantable.map((s) => (
            <label>
              <input type="checkbox" checked={scopes.includes(s)} onChange={() => toggle(s)} /> <span class="mono">{s}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Expires (optional)" hint="The key stops working at the end of this day (UTC).">
        {(id) => <input id={id} type="date" value={expires} onInput={(e: Event) => setExpires((e.target as HTMLInputElement).value)} />}
      </Field>
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy || scopes.length === 0}>
          Create key
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
