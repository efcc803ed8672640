import { useState } from "hono/jsx/dom";
import { DELIVERY_STATUSES } from "../../../common/enums";
import { duration, when } from "../format";
import { useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Cell, DataTable, Empty, ErrorNote, Field, LoadMore } from "../ui";
import { DeliveryDetail } from "./delivery-detail";
import type { ScreenProps } from "./screen";

/** "Delivery log": filters for status and event type; a row opens every attempt, with "Retry". */
export function DeliveriesScreen({ session }: ScreenProps) {
  const [status, setStatus] = useState("");
  const [eventType, setEventType] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const list = useList(`/v1/deliveries?status=${status}&eventType=${eventType}`, pages.deliveries(50, { status, eventType }));
  const hooks = useList("/v1/webhooks?limit=100", pages.webhooks(100));
  const types = useList(allows(session, "events:read") ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const urlOf = (id: string) => hooks.items.find((w) => w.id === id)?.url ?? id;

  if (open) {
    return (
      <DeliveryDetail
        id={open}
        endpoint={urlOf}
        canRetry={allows(session, "webhooks:write")}
        onBack={() => {
          setOpen(null);
          list.reload();
        }}
      />
    );
  }
  return (
    <section aria-labelledby="deliveries-h">
      <h1 id="deliveries-h">Delivery log</h1>
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
        <Field label="Event type">
          {(id) =>
            types.items.length > 0 ? (
              <select id={id} onChange={(e: Event) => setEventType((e.target as HTMLSelectElement).value)}>
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
      </form>
      <ErrorNote error={list.error} />
      {list.items.length === 0 ? (
        <Empty what="deliveries" loading={list.loading} />
      ) : (
        <DataTable caption="Deliveries, newest first" columns={["Time", "Event type", "Endpoint", "Status", "Code", "Duration"]}>
          {list.items.map((d) => (
            <tr key={d.id}>
              <Cell label="Time">
                <button type="button" class="link" onClick={() => setOpen(d.id)}>
                  {when(d.lastAttemptAt ?? d.createdAt)}
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
                <span class={`badge ${d.status === "succeeded" ? "ok" : d.status === "failed" ? "bad" : ""}`}>{d.status}</span>
              </Cell>
              <Cell label="Code">{d.lastStatusCode ?? "–"}</Cell>
              <Cell label="Duration">{duration(d.lastDurationMs)}</Cell>
            </tr>
          ))}
        </DataTable>
      )}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
