import { useState } from "hono/jsx/dom";
import { type CreateSource, hookgate, type NewSource, type Source, unwrap } from "../api";
import { headerLines, prettyJson, when } from "../format";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, DataTable, Empty, ErrorNote, Field, focusOnMount, LoadMore, SecretOnce } from "../ui";
import type { ScreenProps } from "./screen";

// The schemes this form sets up with a secret alone; the others (hmac, meta, basic, api-key) take more fields: use the API.
const SIMPLE_SCHEMES = ["stripe", "github", "shopify", "slack", "standard-webhooks", "twilio"];

/** "Sources": incoming webhook URLs (the URL shown once on creation), their scheme and request log. */
export function SourcesScreen({ session }: ScreenProps) {
  const list = useList("/v1/sources?limit=50", pages.sources(50));
  const canWrite = allows(session, "sources:write");
  const [adding, setAdding] = useState(false);
  const [url, setUrl] = useState<string | null>(null);
  const [open, setOpen] = useState<Source | null>(null);
  if (open) return <RequestLog source={open} onBack={() => setOpen(null)} />;
  return (
    <section aria-labelledby="sources-h">
      <h1 id="sources-h">Sources</h1>
      {canWrite && !adding && !url ? (
        <button type="button" onClick={() => setAdding(true)}>
          Add source
        </button>
      ) : null}
      {adding ? (
        <AddSourceForm
          catalog={allows(session, "events:read")}
          onCancel={() => setAdding(false)}
          onAdded={(s) => {
            setAdding(false);
            setUrl(s.url);
            list.reload();
          }}
        />
      ) : null}
      {url ? <SecretOnce label="The source's URL" value={url} onDone={() => setUrl(null)} /> : null}
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="sources" loading={list.loading} />
      ) : (
        <DataTable caption="Sources" columns={["Name", "Event type", "Scheme", "Status", "Requests"]}>
          {list.items.map((s) => (
            <tr key={s.id}>
              <Cell label="Name">{s.name}</Cell>
              <Cell label="Event type">
                <span class="mono">{s.eventType}</span>
              </Cell>
              <Cell label="Scheme">{s.verification?.scheme ?? "URL token only"}</Cell>
              <Cell label="Status">{s.isEnabled ? "Enabled" : "Disabled"}</Cell>
              <Cell label="Requests">
                <button type="button" class="secondary" onClick={() => setOpen(s)}>
                  Request log
                </button>
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

function AddSourceForm(props: { catalog: boolean; onAdded: (s: NewSource) => void; onCancel: () => void }) {
  const types = useList(props.catalog ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const [name, setName] = useState("");
  const [eventType, setEventType] = useState("");
  const [scheme, setScheme] = useState("");
  const [secret, setSecret] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: CreateSource = { name, eventType };
    // The scheme comes from the form's list of schemes; the API checks the pair.
    if (scheme) body.verification = { scheme, secret } as CreateSource["verification"];
    const created = await action.run(() => unwrap(hookgate().POST("/v1/sources", { body })));
    if (created) props.onAdded(created);
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <form class="panel" onSubmit={submit}>
      <h2>Add source</h2>
      <Field label="Name">{(id) => <input id={id} required maxLength={100} value={name} onInput={value(setName)} />}</Field>
      <Field label="Event type" hint="A catalog name, or a template such as github.{{headers.x-github-event}}.">
        {(id) => <input id={id} required list="source-types" value={eventType} onInput={value(setEventType)} />}
      </Field>
      <datalist id="source-types">
        {types.items.map((t) => (
          <option value={t.name} />
        ))}
      </datalist>
      <Field label="Verification scheme">
        {(id) => (
          <select id={id} onChange={value(setScheme)}>
            <option value="" selected={scheme === ""}>
              URL token only
            </option>
            {SIMPLE_SCHEMES.map((s) => (
              <option value={s} selected={scheme === s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      {scheme ? (
        <Field label="Signing secret" hint="The secret the sender signs with; stored encrypted, never shown again.">
          {(id) => <input id={id} type="password" autocomplete="off" required value={secret} onInput={value(setSecret)} />}
        </Field>
      ) : null}
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Add source
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RequestLog({ source, onBack }: { source: Source; onBack: () => void }) {
  const list = useList(`/v1/sources/${source.id}/requests?limit=50`, pages.sourceRequests(source.id, 50));
  return (
    <section aria-labelledby="requests-h">
      <button type="button" class="link" onClick={onBack}>
        ← Sources
      </button>
      <h1 id="requests-h" tabIndex={-1} ref={focusOnMount}>
        Request log: {source.name}
      </h1>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? <Empty what="requests" loading={list.loading} /> : null}
      <ol class="attempts">
        {list.items.map((r) => (
          <li key={r.id}>
            <h2>
              {when(r.receivedAt)}: {r.status}
              {r.rejection ? ` (${r.rejection})` : ""} → {r.responseStatus}
            </h2>
            <p class="hint mono">
              {r.ip ?? ""} {r.eventId ? `· ${r.eventId}` : ""}
            </p>
            <details>
              <summary>Request</summary>
              <pre>{headerLines(r.headers)}</pre>
              <pre>{prettyJson(r.body)}</pre>
            </details>
          </li>
        ))}
      </ol>
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
