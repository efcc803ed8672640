import { useState } from "hono/jsx/dom";
import { type ApiKey, type CreateKey, hookgate, unwrap } from "../api";
import { when } from "../format";
import { capitalise, keyHint } from "../forms";
import { useAction, useList } from "../hooks";
import { KeyActivity } from "../key-activity";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, Confirm, copyText, DataTable, Empty, ErrorNote, LoadMore, SecretOnce } from "../ui";
import { CredentialForm } from "./credential-form";
import type { ScreenProps } from "./screen";

type Pending = { kind: "rotate" | "revoke"; key: ApiKey } | null;
type Shown = "active" | "revoked" | "all";
const SHOWN: { value: Shown; label: string }[] = [
  { value: "active", label: "Active" },
  { value: "revoked", label: "Revoked" },
  { value: "all", label: "All" },
];

/** "API Keys": the tenant's keys by status; create (shown once), copy a key's prefix, rotate and revoke (each confirmed). */
export function KeysScreen({ session }: ScreenProps) {
  const [shown, setShown] = useState<Shown>("active");
  const list = useList(`/v1/keys?limit=50&status=${shown}`, pages.keys(50, shown === "active" ? undefined : shown));
  const canWrite = allows(session, "keys:write");
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [copied, setCopied] = useState("");
  const [activity, setActivity] = useState<{ id: string; name: string } | null>(null);
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
      if (fresh) setSecret({ label: `New key for ${fresh.name}`, value: fresh.key });
    }
    list.reload();
  };
  const create = async (body: CreateKey) => {
    const k = await action.run(() => unwrap(hookgate().POST("/v1/keys", { body })));
    if (!k) return;
    setCreating(false);
    setSecret({ label: `New key ${k.name}`, value: k.key });
    list.reload();
  };
  const live = (k: ApiKey) => k.status !== "revoked";

  return (
    <section aria-labelledby="keys-h">
      <h1 id="keys-h">API Keys</h1>
      {canWrite && !creating && !secret ? (
        <button type="button" onClick={() => setCreating(true)}>
          Create key
        </button>
      ) : null}
      {creating ? (
        <CredentialForm
          title="Create key"
          submitLabel="Create key"
          held={session.scopes}
          busy={action.busy}
          error={action.error}
          onSubmit={create}
          onCancel={() => {
            setCreating(false);
            action.setError(null);
          }}
        />
      ) : null}
      {secret ? <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <fieldset class="filters segmented">
        <legend>Show</legend>
        {SHOWN.map((o) => (
          <label>
            <input type="radio" name="keys-shown" value={o.value} checked={shown === o.value} onChange={() => setShown(o.value)} />{" "}
            {o.label}
          </label>
        ))}
      </fieldset>
      {creating ? null : <ErrorNote error={action.error ?? list.error} />}
      <p role="status" class="hint">
        {copied}
      </p>
      {list.items.length === 0 ? (
        <Empty what={shown === "revoked" ? "revoked keys" : "keys"} loading={list.loading} />
      ) : (
        <DataTable caption="API keys" columns={["Name", "Key", "Created", "Last used", "Expires", "Status", "Actions"]}>
          {list.items.map((k) => (
            <tr key={k.id}>
              <Cell label="Name">
                {/* Opening a key shows its usage and its recent errors. */}
                <button type="button" class="link name" onClick={() => setActivity({ id: k.id, name: k.name })}>
                  {k.name}
                </button>
                {k.id === session.credentialId ? <span class="hint"> (this session's key)</span> : null}
                <span class="hint mono block">{k.scopes.join(" ")}</span>
                <button type="button" class="link" onClick={() => setActivity({ id: k.id, name: k.name })}>
                  Usage
                </button>
              </Cell>
              <Cell label="Key">
                <span class="mono key-hint">{keyHint(k)}</span>
              </Cell>
              <Cell label="Created">{when(k.createdAt)}</Cell>
              <Cell label="Last used">{when(k.lastUsedAt)}</Cell>
              <Cell label="Expires">{k.revokedAt && live(k) ? `Rotated: stops ${when(k.revokedAt)}` : when(k.expiresAt, "Never")}</Cell>
              <Cell label="Status">
                <span class={`badge ${k.status === "active" ? "ok" : "bad"}`}>{capitalise(k.status)}</span>
              </Cell>
              <Cell label="Actions">
                <div class="actions">
                  <button type="button" class="secondary" onClick={async () => setCopied(`${await copyText(k.start)} (${k.start})`)}>
                    Copy prefix
                  </button>
                  {canWrite && live(k) ? (
                    <>
                      <button type="button" class="secondary" disabled={action.busy} onClick={() => setPending({ kind: "rotate", key: k })}>
                        Rotate
                      </button>
                      <button type="button" class="danger" disabled={action.busy} onClick={() => setPending({ kind: "revoke", key: k })}>
                        Revoke
                      </button>
                    </>
                  ) : null}
                </div>
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
      {activity ? (
        <KeyActivity
          keyId={activity.id}
          name={activity.name}
          canReadErrors={allows(session, "audit:read")}
          onClose={() => setActivity(null)}
        />
      ) : null}
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
