import { useEffect, useState } from "hono/jsx/dom";
import { hookgate, messageOf, unwrap } from "./api";
import { duration, when } from "./format";
import { Cell, DataTable, Empty, ErrorNote, LoadMore } from "./ui";

type RequestError = {
  requestId: string;
  at: string;
  credentialId: string;
  credentialName: string | null;
  method: string;
  path: string;
  status: number;
  code: string | null;
  durationMs: number;
  ip: string | null;
};

/** The list, from the tenant's own API, or (`tenantId`) the operator's view of that tenant. */
function listErrors(tenantId: string | undefined, query: { limit: number; credentialId?: string; cursor?: string }) {
  return tenantId
    ? unwrap(hookgate().GET("/admin/tenants/{tenantId}/requests", { params: { path: { tenantId }, query } }))
    : unwrap(hookgate().GET("/v1/requests", { params: { query } }));
}

function findError(tenantId: string | undefined, requestId: string) {
  return tenantId
    ? unwrap(hookgate().GET("/admin/tenants/{tenantId}/requests/{requestId}", { params: { path: { tenantId, requestId } } }))
    : unwrap(hookgate().GET("/v1/requests/{requestId}", { params: { path: { requestId } } }));
}

/** Recent request errors, newest first (all of the tenant's, or one credential's), 25 at a time. */
export function RequestErrorTable({ credentialId, caption, tenantId }: { credentialId?: string; caption: string; tenantId?: string }) {
  const [items, setItems] = useState<RequestError[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const fetchPage = (cursor: string | null) => {
    setLoading(true);
    const query = { limit: 25, ...(credentialId && { credentialId }), ...(cursor && { cursor }) };
    return listErrors(tenantId, query)
      .then((page) => {
        setItems((old) => (cursor ? [...old, ...page.data] : page.data));
        setNext(page.nextCursor);
        setError(null);
      })
      .catch((e) => setError(messageOf(e)))
      .finally(() => setLoading(false));
  };
  useEffect(() => {
    void fetchPage(null);
  }, [credentialId ?? "", tenantId ?? ""]);
  return (
    <div>
      <ErrorNote error={error} />
      {items.length === 0 ? (
        <Empty what="request errors" loading={loading} />
      ) : (
        <DataTable caption={caption} columns={["Time", "Request", "Status", "Credential", "Request id"]}>
          {items.map((r) => (
            <tr key={`${r.requestId}-${r.at}`}>
              <Cell label="Time">{when(r.at)}</Cell>
              <Cell label="Request">
                <span class="mono">
                  {r.method} {r.path}
                </span>
              </Cell>
              <Cell label="Status">
                {r.status} {r.code ? <span class="mono">{r.code}</span> : null} · {duration(r.durationMs)}
              </Cell>
              <Cell label="Credential">{r.credentialName ?? r.credentialId}</Cell>
              <Cell label="Request id">
                <span class="mono">{r.requestId}</span>
              </Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={next} loading={loading} more={() => void fetchPage(next)} />
    </div>
  );
}

/** Looks one request up by the X-Request-Id its caller got. */
export function RequestIdSearch({ tenantId }: { tenantId?: string } = {}) {
  const [value, setValue] = useState("");
  const [found, setFound] = useState<RequestError | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const search = (e: Event) => {
    e.preventDefault();
    const requestId = value.trim();
    if (!requestId) return;
    setFound(null);
    setMessage(null);
    findError(tenantId, requestId)
      .then((r) => setFound(r))
      .catch((err) =>
        setMessage(
          messageOf(err).includes("not found") ? `No error was kept for ${requestId}: it succeeded, or the id is unknown.` : messageOf(err),
        ),
      );
  };
  return (
    <form class="search" aria-label="Find a request" onSubmit={search}>
      <label for="request-id">Request id</label>
      <input
        id="request-id"
        name="requestId"
        value={value}
        maxlength={128}
        onInput={(e: Event) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Search</button>
      <div aria-live="polite">
        {message ? <p class="hint">{message}</p> : null}
        {found ? (
          <dl class="detail">
            <dt>Request</dt>
            <dd class="mono">
              {found.method} {found.path}
            </dd>
            <dt>Answer</dt>
            <dd>
              {found.status} <span class="mono">{found.code ?? ""}</span>
            </dd>
            <dt>When</dt>
            <dd>
              {when(found.at)} · {duration(found.durationMs)}
            </dd>
            <dt>Credential</dt>
            <dd>
              {found.credentialName ?? ""} <span class="mono">{found.credentialId}</span>
            </dd>
            <dt>From</dt>
            <dd>{found.ip ?? "–"}</dd>
          </dl>
        ) : null}
      </div>
    </form>
  );
}
