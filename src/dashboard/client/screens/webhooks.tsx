import { useState } from "hono/jsx/dom";
import { LISTEN_MANAGED_BY } from "../../../common/enums";
import { useList } from "../hooks";
import { pages } from "../lists";
import { allows } from "../session";
import { Empty, ErrorNote, LoadMore, SecretOnce } from "../ui";
import { EndpointForm } from "./endpoint-form";
import type { ScreenProps } from "./screen";
import { WebhookCard } from "./webhook-card";

/** "Webhooks": the tenant's endpoints, each with its status, switch, edit, delete, test send, secret rotation, chart and log. */
export function WebhooksScreen({ session }: ScreenProps) {
  const list = useList("/v1/webhooks?limit=50", pages.webhooks(50));
  const canWrite = allows(session, "webhooks:write");
  const catalog = allows(session, "events:read");
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
        <EndpointForm
          catalog={catalog}
          onCancel={() => setAdding(false)}
          onSaved={(w, s) => {
            setAdding(false);
            if (s) setSecret({ label: `Signing secret for ${w.url}`, value: s });
            list.reload();
          }}
        />
      ) : null}
      {secret ? <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <ErrorNote error={list.error} />
      {endpoints.length === 0 ? <Empty what="endpoints" loading={list.loading} /> : null}
      {endpoints.map((w) => (
        <WebhookCard key={w.id} webhook={w} canWrite={canWrite} catalog={catalog} onChanged={list.reload} />
      ))}
      <LoadMore next={list.next} loading={list.loading} more={list.more} />
    </section>
  );
}
