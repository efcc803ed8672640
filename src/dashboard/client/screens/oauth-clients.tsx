import { useState } from "hono/jsx/dom";
import { type CreateOAuthClient, hookgate, type OAuthClient, unwrap } from "../api";
import { when } from "../format";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, Confirm, DataTable, Empty, ErrorNote, LoadMore, SecretOnce } from "../ui";
import { CredentialForm } from "./credential-form";
import type { ScreenProps } from "./screen";

/** "OAuth clients": client-credentials clients; create (the secret shown once), delete (confirmed). */
export function OAuthClientsScreen({ session }: ScreenProps) {
  const list = useList("/v1/oauth-clients?limit=50", pages.oauthClients(50));
  const canWrite = allows(session, "keys:write");
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ label: string; value: string; clientId: string } | null>(null);
  const [deleting, setDeleting] = useState<OAuthClient | null>(null);
  const action = useAction();

  const create = async (body: CreateOAuthClient) => {
    const c = await action.run(() => unwrap(hookgate().POST("/v1/oauth-clients", { body })));
    if (!c) return;
    setCreating(false);
    setSecret({ label: `Client secret for ${c.name}`, value: c.clientSecret, clientId: c.clientId });
    list.reload();
  };
  const remove = async () => {
    if (!deleting) return;
    const id = deleting.id;
    setDeleting(null);
    await action.run(() => unwrap(hookgate().DELETE("/v1/oauth-clients/{id}", { params: { path: { id } } })));
    list.reload();
  };

  return (
    <section aria-labelledby="clients-h">
      <h1 id="clients-h">OAuth clients</h1>
      <p class="hint">
        For server-to-server access with the OAuth 2.0 client credentials grant: exchange the client ID and secret at{" "}
        <span class="mono">/oauth/token</span> for a one-hour access token.
      </p>
      {canWrite && !creating && !secret ? (
        <button type="button" onClick={() => setCreating(true)}>
          Create client
        </button>
      ) : null}
      {creating ? (
        <CredentialForm
          title="Create client"
          submitLabel="Create client"
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
      {secret ? (
        <>
          <p>
            Client ID: <span class="mono">{secret.clientId}</span>
          </p>
          <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} />
        </>
      ) : null}
      {creating ? null : <ErrorNote error={action.error ?? list.error} />}
      {list.items.length === 0 ? (
        <Empty what="OAuth clients" loading={list.loading} />
      ) : (
        <DataTable
          caption="OAuth clients"
          columns={
            canWrite
              ? ["Name", "Client ID", "Scopes", "Created", "Expires", "Actions"]
              : ["Name", "Client ID", "Scopes", "Created", "Expires"]
          }
        >
          {list.items.map((c) => (
            <tr key={c.id}>
              <Cell label="Name">{c.name}</Cell>
              <Cell label="Client ID">
                <span class="mono">{c.clientId}</span>
              </Cell>
              <Cell label="Scopes">
                <span class="mono">{c.scopes.join(" ")}</span>
              </Cell>
              <Cell label="Created">{when(c.createdAt)}</Cell>
              <Cell label="Expires">{when(c.expiresAt, "Never")}</Cell>
              {canWrite ? (
                <Cell label="Actions">
                  <button type="button" class="danger" disabled={action.busy} onClick={() => setDeleting(c)}>
                    Delete
                  </button>
                </Cell>
              ) : null}
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
      {deleting ? (
        <Confirm
          title={`Delete ${deleting.name}?`}
          message="Every access token of this client stops working at once, and it cannot get new ones. This cannot be undone."
          action="Delete"
          onConfirm={remove}
          onCancel={() => setDeleting(null)}
        />
      ) : null}
    </section>
  );
}
