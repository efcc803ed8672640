import { useEffect, useState } from "hono/jsx/dom";
import { DELIVERY_STATUSES, type Mode } from "../../../../common/enums";
import { type Attempt, type Delivery, hookgate, messageOf, unwrap } from "../../api";
import { duration, headerLines, prettyJson, when } from "../../format";
import { useList } from "../../hooks";
import { operatorPages } from "../../operator-lists";
import { Cell, DataTable, Empty, ErrorNote, Field, focusOnMount, LoadMore } from "../../ui";

/** "Delivery log": the tenant's deliveries, newest first, by status; a row opens every attempt. */
export function TenantDeliveries({ tenantId, mode }: { tenantId: string; mode: Mode }) {
  const [status, setStatus] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const list = useList(
    `/admin/tenants/${tenantId}/deliveries?status=${status}&mode=${mode}`,
    operatorPages.deliveries(tenantId, 50, status, mode),
  );
  const hooks = useList(`/admin/tenants/${tenantId}/webhooks?limit=100&mode=${mode}`, operatorPages.webhooks(tenantId, 100, mode));
  const urlOf = (id: string) => hooks.items.find((w) => w.id === id)?.url ?? id;
  if (open) return <Attempts tenantId={tenantId} mode={mode} id={open} endpoint={urlOf} onBack={() => setOpen(null)} />;
  return (
    <section aria-labelledby="tdel-h">
      <h2 id="tdel-h">Delivery log</h2>
      <form class="filters" aria-label="Filter deliveries" onSubmit={(e: Event) => e.preventDefault()}>
        <Field label="Status">
          {(id) => (
            <select id={id} onChange={(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
              <option value="" selected={status === ""}>
                Any status
              </option>
              {DELIVERY_STATUSES.map((s) => (
                <option value={s} selected={status === s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
      </form>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="deliveries" loading={list.loading} />
      ) : (
        <DataTable
          caption="The tenant's deliveries, newest first"
          columns={["Created", "Event type", "Endpoint", "Status", "Last answer", ""]}
        >
          {list.items.map((d: Delivery) => (
            <tr key={d.id}>
              <Cell label="Created">{when(d.createdAt)}</Cell>
              <Cell label="Event type">
                <span class="mono">{d.eventType}</span>
              </Cell>
              <Cell label="Endpoint">
                <span class="url">{urlOf(d.webhookId)}</span>
              </Cell>
              <Cell label="Status">
                {d.status} ({d.attemptCount} attempt{d.attemptCount === 1 ? "" : "s"})
              </Cell>
              <Cell label="Last answer">
                {d.lastStatusCode ?? "–"} {d.lastDurationMs !== null ? `(${duration(d.lastDurationMs)})` : ""}
              </Cell>
              <Cell label="Attempts">
                <button type="button" class="secondary" aria-label={`Attempts of ${d.id}`} onClick={() => setOpen(d.id)}>
                  Attempts
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

function Attempts(props: { tenantId: string; mode: Mode; id: string; endpoint: (id: string) => string; onBack: () => void }) {
  const [detail, setDetail] = useState<(Delivery & { attempts: Attempt[] }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    unwrap(
      hookgate().GET("/admin/tenants/{tenantId}/deliveries/{id}", {
        params: { path: { tenantId: props.tenantId, id: props.id }, query: { mode: props.mode } },
      }),
    )
      .then(setDetail)
      .catch((e) => setError(messageOf(e)));
  }, [props.id]);
  return (
    <section aria-labelledby="tdeliv-h">
      <button type="button" class="link" onClick={props.onBack}>
        ← Delivery log
      </button>
      <h2 id="tdeliv-h" tabIndex={-1} ref={focusOnMount}>
        Delivery {props.id}
      </h2>
      <ErrorNote error={error} />
      {detail ? (
        <>
          <dl class="facts">
            <dt>Event</dt>
            <dd class="mono">
              {detail.eventType} · {detail.eventId}
            </dd>
            <dt>Endpoint</dt>
            <dd class="url">{props.endpoint(detail.webhookId)}</dd>
            <dt>Status</dt>
            <dd>{detail.status}</dd>
          </dl>
          {detail.attempts.length === 0 ? <p class="hint">No attempt yet.</p> : null}
          <ol class="attempts" aria-label="Attempts">
            {detail.attempts.map((a) => (
              <li>
                <h3>
                  Attempt {a.attempt}: {a.statusCode ?? a.error ?? "no answer"} in {duration(a.durationMs)}
                </h3>
                <p class="hint">{when(a.at)}</p>
                <details>
                  <summary>Request</summary>
                  <pre>{headerLines(a.requestHeaders)}</pre>
                  <pre>{prettyJson(a.requestBody)}</pre>
                </details>
                <details open>
                  <summary>Response</summary>
                  <pre>{a.responseBody ?? (a.error ? `(${a.error})` : "(empty)")}</pre>
                </details>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
