import { useState } from "hono/jsx/dom";
import { hookgate, type LockCredential, type TenantApiKey, unwrap } from "../../api";
import { when } from "../../format";
import { useAction, useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { ModeBadge } from "../../test-mode";
import { Cell, Confirm, DataTable, Empty, ErrorNote, Field, LoadMore } from "../../ui";

const lockText = (k: TenantApiKey) =>
  [k.lockedBy.ipAllowlist ? "IP allowlist" : null, k.lockedBy.expiresAt ? "expiry" : null].filter(Boolean).join(", ") || "None";

/** "API Keys": every key of the tenant with its status and last 4; "Revoke" (confirmed) and "Lock". */
export function TenantKeys({ tenantId }: { tenantId: string }) {
  const [filter, setFilter] = useState({ status: "all", name: "", last4: "" });
  const [typed, setTyped] = useState(filter);
  const list = useList(`/admin/tenants/${tenantId}/keys?${new URLSearchParams(filter)}`, operatorPages.keys(tenantId, 50, filter));
  const [revoking, setRevoking] = useState<TenantApiKey | null>(null);
  const [locking, setLocking] = useState<TenantApiKey | null>(null);
  const [status, setStatus] = useState("");
  const action = useAction();

  const revoke = async () => {
    const key = revoking;
    setRevoking(null);
    if (!key) return;
    const done = await action.run(() =>
      unwrap(hookgate().DELETE("/admin/tenants/{tenantId}/keys/{id}", { params: { path: { tenantId, id: key.id } } })).then(() => true),
    );
    if (done) setStatus(`${key.name} is revoked.`);
    list.reload();
  };

  return (
    <section aria-labelledby="tkeys-h">
      <h2 id="tkeys-h">API Keys</h2>
      <form
        class="filters"
        aria-label="Find keys"
        onSubmit={(e: Event) => {
          e.preventDefault();
          setFilter({ ...typed, name: typed.name.trim(), last4: typed.last4.trim() });
        }}
      >
        <Field label="Status">
          {(id) => (
            <select id={id} onChange={(e: Event) => setTyped({ ...typed, status: (e.target as HTMLSelectElement).value })}>
              {["all", "active", "revoked", "expired"].map((s) => (
                <option value={s} selected={typed.status === s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Key name">
          {(id) => (
            <input id={id} value={typed.name} onInput={(e: Event) => setTyped({ ...typed, name: (e.target as HTMLInputElement).value })} />
          )}
        </Field>
        <Field label="Last 4">
          {(id) => (
            <input
              id={id}
              maxLength={4}
              value={typed.last4}
              onInput={(e: Event) => setTyped({ ...typed, last4: (e.target as HTMLInputElement).value })}
            />
          )}
        </Field>
        <div class="actions">
          <button type="submit" class="secondary">
            Find
          </button>
        </div>
      </form>
      <p role="status" class="hint">
        {status}
      </p>
      <ErrorNote error={action.error ?? list.error} />
      {locking ? (
        <LockForm
          tenantId={tenantId}
          apiKey={locking}
          onDone={(message) => {
            setLocking(null);
            if (message) setStatus(message);
            list.reload();
          }}
        />
      ) : null}
      {list.items.length === 0 ? (
        <Empty what="keys" loading={list.loading} />
      ) : (
        <DataTable caption="The tenant's API keys" columns={["Name", "Status", "Last used", "Expires", "Locked", "Actions"]}>
          {list.items.map((k) => (
            <tr key={k.id}>
              <Cell label="Name">
                <span class="name">{k.name}</span>
                <ModeBadge mode={k.mode} />
                <span class="hint mono">…{k.last4}</span>
              </Cell>
              <Cell label="Status">{k.status}</Cell>
              <Cell label="Last used">{when(k.lastUsedAt)}</Cell>
              <Cell label="Expires">{when(k.expiresAt, "Never")}</Cell>
              <Cell label="Locked">{lockText(k)}</Cell>
              <Cell label="Actions">
                {k.status === "revoked" ? null : (
                  <div class="actions">
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Lock ${k.name}`}
                      disabled={action.busy}
                      onClick={() => setLocking(k)}
                    >
                      Lock
                    </button>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Revoke ${k.name}`}
                      disabled={action.busy}
                      onClick={() => setRevoking(k)}
                    >
                      Revoke
                    </button>
                  </div>
                )}
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
      {revoking ? (
        <Confirm
          title={`Revoke ${revoking.name}?`}
          message={`Every request with the key ending ${revoking.last4} is refused from now on. The tenant sees this in its audit log. This cannot be undone.`}
          action="Revoke"
          onConfirm={revoke}
          onCancel={() => setRevoking(null)}
        />
      ) : null}
    </section>
  );
}

/** "Lock": sets an IP allowlist and/or an expiry the tenant cannot loosen. */
function LockForm({ tenantId, apiKey: k, onDone }: { tenantId: string; apiKey: TenantApiKey; onDone: (message: string | null) => void }) {
  const [allowlist, setAllowlist] = useState(k.ipAllowlist.join("\n"));
  const [expires, setExpires] = useState(k.expiresAt ? k.expiresAt.slice(0, 10) : "");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const ips = allowlist
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const body: LockCredential = {};
    if (ips.length) body.ipAllowlist = ips;
    if (expires) body.expiresAt = new Date(`${expires}T23:59:59Z`).toISOString();
    if (!body.ipAllowlist && !body.expiresAt) return action.setError("Enter an IP allowlist, an expiry date, or both");
    const done = await action.run(() =>
      unwrap(hookgate().PATCH("/admin/tenants/{tenantId}/keys/{id}", { params: { path: { tenantId, id: k.id } }, body })),
    );
    if (done) onDone(`${k.name} is locked.`);
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lock-h">
      <h3 id="lock-h">Lock {k.name}</h3>
      <p class="hint">The tenant cannot loosen what is set here.</p>
      <Field label="IP allowlist" hint="Addresses or CIDR ranges, one a line.">
        {(id) => (
          <textarea id={id} rows={3} onInput={(e: Event) => setAllowlist((e.target as HTMLTextAreaElement).value)}>
            {allowlist}
          </textarea>
        )}
      </Field>
      <Field label="Expires" hint="The key stops working at the end of this day (UTC).">
        {(id) => <input id={id} type="date" value={expires} onInput={(e: Event) => setExpires((e.target as HTMLInputElement).value)} />}
      </Field>
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Lock
        </button>
        <button type="button" class="secondary" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
