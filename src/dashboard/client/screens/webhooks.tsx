import { useState } from "hono/jsx/dom";
import { LISTEN_MANAGED_BY } from "../../../common/enums";
import { type CreateWebhook, hookgate, unwrap, type Webhook } from "../api";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Empty, ErrorNote, Field, LoadMore, SecretOnce } from "../ui";
import type { ScreenProps } from "./screen";
import { WebhookCard } from "./webhook-card";

/** "Webhooks": the tenant's endpoints, each with its status, switch, test send, secret rotation and chart. */
export function WebhooksScreen({ session }: ScreenProps) {
  const list = useList("/v1/webhooks?limit=50", pages.webhooks(50));
  const canWrite = allows(session, "webhooks:write");
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const endpoints = list.items.filter((w) => w.managedBy !== LISTEN_MANAGED_BY);
  return (
    <section aria-labelledby="webhooks-h">
      <h1 id="webhooks-h">Webhooks</h1>
      {canWrite && !adding && !secret ? (
        <button type="button" onClick={() => setAdding(true)}>
          Add endpoint
        </button>
      ) : null}
      {adding ? (
        <AddEndpointForm
          catalog={allows(session, "events:read")}
          onCancel={() => setAdding(false)}
          onAdded={(w, s) => {
            setAdding(false);
            setSecret({ label: `Signing secret for ${w.url}`, value: s });
            list.reload();
          }}
        />
      ) : null}
      {secret ? <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <ErrorNote error={list.error} />
      {endpoints.length === 0 ? <Empty what="endpoints" loading={list.loading} /> : null}
      {endpoints.map((w) => (
        <WebhookCard key={w.id} webhook={w} canWrite={canWrite} onChanged={list.reload} />
      ))}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}

function AddEndpointForm(props: { catalog: boolean; onAdded: (w: Webhook, secret: string) => void; onCancel: () => void }) {
  const types = useList(props.catalog ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [picked, setPicked] = useState<string[]>(["*"]);
  const [typed, setTyped] = useState("*");
  const action = useAction();
  const names = types.items.filter((t) => !t.archived).map((t) => t.name);
  const submit = async (e: Event) => {
    e.preventDefault();
    const eventTypes = props.catalog
      ? picked
      : typed
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
    const body: CreateWebhook = { url, eventTypes };
    if (description) body.description = description;
    const created = await action.run(() => unwrap(hookgate().POST("/v1/webhooks", { body })));
    if (created) props.onAdded(created, created.secret);
  };
  const toggle = (name: string) =>
    setPicked((old) => {
      if (name === "*") return ["*"];
      const rest = old.filter((x) => x !== "*");
      return rest.includes(name) ? rest.filter((x) => x !== name) : [...rest, name];
    });
  return (
    <form class="panel" onSubmit={submit}>
      <h2>Add endpoint</h2>
      <Field label="Endpoint URL" hint="Where deliveries are POSTed: an https:// URL.">
        {(id) => <input id={id} type="url" required value={url} onInput={(e: Event) => setUrl((e.target as HTMLInputElement).value)} />}
      </Field>
      <Field label="Description (optional)">
        {(id) => (
          <input id={id} maxLength={500} value={description} onInput={(e: Event) => setDescription((e.target as HTMLInputElement).value)} />
        )}
      </Field>
      {props.catalog ? (
        <fieldset>
          <legend>Event types</legend>
          <div class="checks">
            {["*", ...names].map((n) => (
              <label>
                <input type="checkbox" checked={picked.includes(n)} onChange={() => toggle(n)} />{" "}
                <span class="mono">{n === "*" ? "All event types (*)" : n}</span>
              </label>
            ))}
          </div>
        </fieldset>
      ) : (
        <Field label="Event types" hint="Comma-separated names from the catalog, or * for all.">
          {(id) => <input id={id} required value={typed} onInput={(e: Event) => setTyped((e.target as HTMLInputElement).value)} />}
        </Field>
      )}
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Add endpoint
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
