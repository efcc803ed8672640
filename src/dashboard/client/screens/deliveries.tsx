import { useState } from "hono/jsx/dom";
import { millis, when } from "../format";
import { capitalise, STATUS_FILTERS } from "../forms";
import { useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, DataTable, Empty, ErrorNote, Field, LoadMore } from "../ui";
import { DeliveryDetail } from "./delivery-detail";
import type { ScreenProps } from "./screen";

const selected = (e: Event) => (e.target as HTMLSelectElement).value;

/**
 * "Delivery log": filters for status, event type and endpoint (`#/deliveries/<webhook id>` opens one
 * endpoint's own log); clicking anywhere on a row, or its time with the keyboard, opens its attempts.
 */
export function DeliveriesScreen({ session, param }: ScreenProps) {
  const [status, setStatus] = useState("");
  const [eventType, setEventType] = useState("");
  const [webhookId, setWebhookId] = useState(param ?? "");
  const [open, setOpen] = useState<string | null>(null);
  const list = useList(
    `/v1/deliveries?status=${status}&eventType=${eventType}&webhookId=${webhookId}`,
    pages.deliveries(50, { status, eventType, webhookId }),
  );
  const hooks = useList("/v1/webhooks?limit=100", pages.webhooks(100));
  const types = useList(allows(session, "events:read") ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const endpointOf = (id: string) => hooks.items.find((w) => w.id === id);
  const urlOf = (id: string) => endpointOf(id)?.url ?? id;

  if (open) {
    return (
      <DeliveryDetail
        id={open}
        endpoint={urlOf}
        // null: the endpoint is gone (the list has loaded and does not hold it).
        endpointState={(id) => endpointOf(id) ?? (hooks.loading ? undefined : null)}
        canRetry={allows(session, "webhooks:write")}
        onBack={() => {
          setOpen(null);
          list.reload();
        }}
      />
    );
  }
  const one = webhookId ? endpointOf(webhookId) : undefined;
  return (
    <section aria-labelledby="deliveries-h">
      <h1 id="deliveries-h">Delivery log</h1>
      {one ? (
        <p class="hint">
          Deliveries to <span class="url">{one.url}</span>
        </p>
      ) : null}
      <form class="filters" aria-label="Filter deliveries" onSubmit={(e: Event) => e.preventDefault()}>
        <Field label="Status">
          {(id) => (
            <select id={id} onChange={(e: Event) => setStatus(selected(e))}>
              <option value="" selected={status === ""}>
                Any status
              </option>
              {STATUS_FILTERS.map((s) => (
                <option value={s.value} selected={status === s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Event type">
          {(id) =>
            types.items.length > 0 ? (
              <select id={id} onChange={(e: Event) => setEventType(selected(e))}>
                <option value="" selected={eventType === ""}>
                  Any event type
                </option>
                {types.items.map((t) => (
                  <option value={t.name} selected={eventType === t.name}>
                    {t.name}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                value={eventType}
                placeholder="invoice.paid"
                onChange={(e: Event) => setEventType((e.target as HTMLInputElement).value.trim())}
              />
            )
          }
        </Field>
        <Field label="Endpoint">
          {(id) => (
            <select id={id} onChange={(e: Event) => setWebhookId(selected(e))}>
              <option value="" selected={webhookId === ""}>
                Any endpoint
              </option>
              {hooks.items.map((w) => (
                <option value={w.id} selected={webhookId === w.id}>
                  {w.url}
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
        <DataTable caption="Deliveries, newest first" columns={["Time", "Event type", "Endpoint", "Status", "Code", "Response time"]}>
          {list.items.map((d) => (
            <tr key={d.id} class="opens" onClick={() => setOpen(d.id)}>
              <Cell label="Time">
                <button type="button" class="link" onClick={() => setOpen(d.id)}>
                  {when(d.createdAt)}
                  <span class="sr-only"> (open the attempts)</span>
                </button>
              </Cell>
              <Cell label="Event type">
                <span class="mono">{d.eventType}</span>
              </Cell>
              <Cell label="Endpoint">
                <span class="url">{urlOf(d.webhookId)}</span>
              </Cell>
              <Cell label="Status">
                <span class={`badge ${d.status === "succeeded" ? "ok" : d.status === "failed" ? "bad" : ""}`}>
                  {d.status === "pending" && d.attemptCount > 0 ? "Retrying" : capitalise(d.status)}
                </span>
                {d.status === "pending" && d.nextAttemptAt && d.attemptCount > 0 ? (
                  <span class="hint block">next {when(d.nextAttemptAt)}</span>
                ) : null}
              </Cell>
              <Cell label="Code">{d.lastStatusCode ?? "–"}</Cell>
              <Cell label="Response time">{millis(d.lastDurationMs)}</Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
