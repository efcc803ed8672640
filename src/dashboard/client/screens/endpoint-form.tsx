import { useState } from "hono/jsx/dom";
import { type CreateWebhook, hookgate, type TestResult, type UpdateWebhook, unwrap, type VerifyEndpoint, type Webhook } from "../api";
import { millis } from "../format";
import { type Pair, pairsToRecord, recordToPairs } from "../forms";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { ErrorNote, Field, PairRows } from "../ui";

const FORMATS = [
  { value: "json", label: "JSON" },
  { value: "form", label: "Form Data" },
] as const;
type Format = (typeof FORMATS)[number]["value"];

const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/**
 * "Add endpoint" and "Edit": the endpoint's URL (with "Verify": the signed verification request, and
 * the endpoint's answer), description, event types, payload format, custom headers and fields, and,
 * when adding, its own signing secret. Editing sends only what changed; header values are secrets the
 * API never returns, so the headers are sent only when the rows were edited.
 */
export function EndpointForm(props: {
  editing?: Webhook;
  catalog: boolean;
  onSaved: (w: Webhook, secret: string | null) => void;
  onCancel: () => void;
}) {
  const w = props.editing;
  const types = useList(props.catalog ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const [url, setUrl] = useState(w?.url ?? "");
  const [description, setDescription] = useState(w?.description ?? "");
  const [picked, setPicked] = useState<string[]>(w?.eventTypes ?? ["*"]);
  const [typed, setTyped] = useState((w?.eventTypes ?? ["*"]).join(", "));
  const [format, setFormat] = useState<Format>(w?.format ?? "json");
  const [headers, setHeaders] = useState<Pair[]>(w ? Object.keys(w.headers ?? {}).map((name) => ({ name, value: "" })) : []);
  const [headersEdited, setHeadersEdited] = useState(false);
  const [fields, setFields] = useState<Pair[]>(recordToPairs(w?.customFields));
  const [secret, setSecret] = useState("");
  const [verified, setVerified] = useState<TestResult | null>(null);
  const action = useAction();
  const verifying = useAction();
  const rows = headers.length > 0 ? headers : [{ name: "", value: "" }];

  const eventTypes = () =>
    props.catalog
      ? picked
      : typed
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
  const verify = async () => {
    setVerified(null);
    const body: VerifyEndpoint = { url, format, customFields: pairsToRecord(fields) };
    if (!w || headersEdited) body.headers = pairsToRecord(headers);
    if (w) body.webhookId = w.id;
    else if (secret) body.secret = secret;
    const result = await verifying.run(() => unwrap(hookgate().POST("/v1/webhooks/verify", { body })));
    if (result) setVerified(result);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const customFields = pairsToRecord(fields);
    if (!w) {
      const body: CreateWebhook = { url, eventTypes: eventTypes(), format };
      if (description) body.description = description;
      const h = pairsToRecord(headers);
      if (h) body.headers = h;
      if (customFields) body.customFields = customFields;
      if (secret) body.secret = secret;
      const created = await action.run(() => unwrap(hookgate().POST("/v1/webhooks", { body })));
      if (created) props.onSaved(created, created.secret);
      return;
    }
    const body: UpdateWebhook = { url, description: description || null, eventTypes: eventTypes(), format, customFields };
    if (headersEdited) body.headers = pairsToRecord(headers);
    const saved = await action.run(() => unwrap(hookgate().PATCH("/v1/webhooks/{id}", { params: { path: { id: w.id } }, body })));
    if (saved) props.onSaved(saved, null);
  };
  const toggle = (name: string) =>
    setPicked((old) => {
      if (name === "*") return ["*"];
      const rest = old.filter((x) => x !== "*");
      return rest.includes(name) ? rest.filter((x) => x !== name) : [...rest, name];
    });
  const catalog = types.items.filter((t) => !t.archived || picked.includes(t.name));

  return (
    <form class="panel" onSubmit={submit} aria-label={w ? `Edit ${w.url}` : "Add endpoint"}>
      <h2>{w ? "Edit endpoint" : "Add endpoint"}</h2>
      <Field label="Endpoint URL" hint="Where deliveries are POSTed: an https:// URL.">
        {(id) => (
          <div class="inline-row">
            <input id={id} type="url" required value={url} onInput={text(setUrl)} />
            <button type="button" class="secondary" disabled={verifying.busy || !url} onClick={verify}>
              Verify
            </button>
          </div>
        )}
      </Field>
      <ErrorNote error={verifying.error} />
      {verified ? (
        <div class="test-result" role="status">
          <p>
            {verified.success ? "Verified: " : "Not verified: "}
            {verified.statusCode === null ? `no answer (${verified.error ?? "error"})` : `the endpoint answered ${verified.statusCode}`} in{" "}
            {millis(verified.durationMs)}
          </p>
          {verified.responseBody ? <pre>{verified.responseBody}</pre> : null}
        </div>
      ) : null}
      <Field label="Description">{(id) => <input id={id} maxLength={500} value={description} onInput={text(setDescription)} />}</Field>
      {props.catalog ? (
        <fieldset>
          <legend>Event types</legend>
          <ul class="checks">
            <li>
              <label>
                <input type="checkbox" checked={picked.includes("*")} onChange={() => toggle("*")} /> All event types (*)
              </label>
            </li>
            {catalog.map((t) => (
              <li>
                <label>
                  <input type="checkbox" value={t.name} checked={picked.includes(t.name)} onChange={() => toggle(t.name)} />{" "}
                  <span class="mono">{t.name}</span>
                  {t.description ? <span class="hint"> {t.description}</span> : null}
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      ) : (
        <Field label="Event types" hint="Comma-separated names from the catalog, or * for all.">
          {(id) => <input id={id} required value={typed} onInput={text(setTyped)} />}
        </Field>
      )}
      <fieldset class="segmented">
        <legend>Payload format</legend>
        {FORMATS.map((f) => (
          <label>
            <input type="radio" name="payload-format" value={f.value} checked={format === f.value} onChange={() => setFormat(f.value)} />{" "}
            {f.label}
          </label>
        ))}
      </fieldset>
      <PairRows
        legend="Custom headers"
        addLabel="Add header"
        rows={rows}
        hint={
          w && Object.keys(w.headers ?? {}).length > 0
            ? "Values are secret and never shown: leave the rows as they are to keep them, or type every value again to replace them."
            : "Sent with every delivery, e.g. Authorization. Values are stored encrypted."
        }
        valuePlaceholder={w ? "Value (unchanged if untouched)" : "Value"}
        onChange={(next) => {
          setHeaders(next);
          setHeadersEdited(true);
        }}
      />
      <PairRows
        legend="Custom fields"
        addLabel="Add field"
        rows={fields}
        hint="Added to every payload (JSON: under customFields; Form Data: as fields)."
        onChange={setFields}
      />
      {w ? null : (
        <Field label="Signing secret" hint="Optional: your own secret of at least 24 characters. Empty: a whsec_ secret is generated.">
          {(id) => <input id={id} type="password" autocomplete="new-password" minLength={24} value={secret} onInput={text(setSecret)} />}
        </Field>
      )}
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          {w ? "Save changes" : "Add endpoint"}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
