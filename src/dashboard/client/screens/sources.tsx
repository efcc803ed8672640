import { useState } from "hono/jsx/dom";
import { hookgate, type Source, unwrap } from "../api";
import { headerLines, prettyJson, when } from "../format";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, DataTable, Empty, ErrorNote, focusOnMount, LoadMore, SecretOnce } from "../ui";
import type { ScreenProps } from "./screen";
import { SourceForm } from "./source-form";

/** "Incoming webhooks": the sources (the URL shown once on creation), their scheme and each one's request log. */
export function SourcesScreen({ session }: ScreenProps) {
  const list = useList("/v1/sources?limit=50", pages.sources(50));
  const canWrite = allows(session, "sources:write");
  const [adding, setAdding] = useState(false);
  const [url, setUrl] = useState<string | null>(null);
  const [open, setOpen] = useState<Source | null>(null);
  if (open) return <RequestLog source={open} canReplay={canWrite} onBack={() => setOpen(null)} />;
  return (
    <section aria-labelledby="sources-h">
      <h1 id="sources-h">Incoming webhooks</h1>
      <p class="hint">
        A source is a URL you give a third party (Stripe, GitHub, Shopify, a form tool…): each request to it is verified, mapped and
        published as an event, delivered to your endpoints like any other.
      </p>
      {canWrite && !adding && !url ? (
        <button type="button" onClick={() => setAdding(true)}>
          Add source
        </button>
      ) : null}
      {adding ? (
        <SourceForm
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

/** One source's requests, newest first: what came in, what was answered, and "Replay" for a verified one. */
function RequestLog({ source, canReplay, onBack }: { source: Source; canReplay: boolean; onBack: () => void }) {
  const list = useList(`/v1/sources/${source.id}/requests?limit=50`, pages.sourceRequests(source.id, 50));
  const action = useAction();
  const [replayed, setReplayed] = useState<string | null>(null);
  const replay = async (reqId: string) => {
    setReplayed(null);
    const done = await action.run(() =>
      unwrap(hookgate().POST("/v1/sources/{id}/requests/{reqId}/replay", { params: { path: { id: source.id, reqId } } })),
    );
    if (done) setReplayed(`Replayed: published as ${done.eventId}`);
    list.reload();
  };
  return (
    <section aria-labelledby="requests-h">
      <button type="button" class="link" onClick={onBack}>
        ← Incoming webhooks
      </button>
      <h1 id="requests-h" tabIndex={-1} ref={focusOnMount}>
        Request log: {source.name}
      </h1>
      <ErrorNote error={action.error ?? list.error} />
      <p role="status">{replayed ?? ""}</p>
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
            {canReplay ? (
              r.rejection === "invalid_signature" || r.rejection === "stale_timestamp" ? (
                <p class="hint">Not replayable: this request failed verification.</p>
              ) : (
                <button type="button" class="secondary" disabled={action.busy} onClick={() => replay(r.id)}>
                  Replay
                </button>
              )
            ) : null}
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
