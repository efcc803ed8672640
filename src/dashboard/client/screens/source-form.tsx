import { useState } from "hono/jsx/dom";
import { VERIFICATION_SCHEMES, type VerificationScheme } from "../../../common/enums";
import { type CreateSource, hookgate, type NewSource, unwrap } from "../api";
import { parseMapping, SCHEME_FIELDS, verificationBody } from "../forms";
import { useAction, useList } from "../hooks";
import { pages } from "../lists";
import { ErrorNote, Field } from "../ui";

const SCHEME_LABELS: Record<VerificationScheme, string> = {
  hmac: "HMAC (any sender)",
  stripe: "Stripe",
  github: "GitHub",
  meta: "Meta (Facebook, WhatsApp, Instagram)",
  shopify: "Shopify",
  slack: "Slack",
  "standard-webhooks": "Standard Webhooks (Svix)",
  twilio: "Twilio",
  basic: "HTTP Basic",
  "api-key": "API key header",
};

const text = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/** "Add source": a name, the event type (or a template), the scheme with its own fields, and an optional mapping. */
export function SourceForm(props: { catalog: boolean; onAdded: (s: NewSource) => void; onCancel: () => void }) {
  const types = useList(props.catalog ? "/v1/event-types?limit=100" : null, pages.eventTypes(100));
  const [name, setName] = useState("");
  const [eventType, setEventType] = useState("");
  const [scheme, setScheme] = useState<VerificationScheme | "">("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [mapping, setMapping] = useState("");
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const mapped = parseMapping(mapping);
    if (!mapped.ok) {
      action.setError(mapped.error);
      return;
    }
    const body: CreateSource = { name, eventType };
    // The form's fields are the scheme's own (SCHEME_FIELDS); the API checks the whole object.
    if (scheme) body.verification = verificationBody(scheme, values) as CreateSource["verification"];
    if (mapped.value !== undefined) body.mapping = mapped.value;
    const created = await action.run(() => unwrap(hookgate().POST("/v1/sources", { body })));
    if (created) props.onAdded(created);
  };
  const setValue = (field: string) => (e: Event) => {
    const v = (e.target as HTMLInputElement | HTMLSelectElement).value;
    setValues((old) => ({ ...old, [field]: v }));
  };
  return (
    <form class="panel" onSubmit={submit}>
      <h2>Add source</h2>
      <Field label="Name">{(id) => <input id={id} required maxLength={100} value={name} onInput={text(setName)} />}</Field>
      <Field label="Event type" hint="A catalog name, or a template such as github.{{headers.x-github-event}}.">
        {(id) => <input id={id} required list="source-types" value={eventType} onInput={text(setEventType)} />}
      </Field>
      <datalist id="source-types">
        {types.items.map((t) => (
          <option value={t.name} />
        ))}
      </datalist>
      <Field label="Verification scheme">
        {(id) => (
          <select
            id={id}
            onChange={(e: Event) => {
              setScheme((e.target as HTMLSelectElement).value as VerificationScheme | "");
              setValues({});
            }}
          >
            <option value="" selected={scheme === ""}>
              URL token only
            </option>
            {VERIFICATION_SCHEMES.map((s) => (
              <option value={s} selected={scheme === s}>
                {SCHEME_LABELS[s]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {scheme
        ? SCHEME_FIELDS[scheme].map((f) => (
            <Field label={f.label} hint={f.hint}>
              {(id) =>
                f.options ? (
                  <select id={id} onChange={setValue(f.name)}>
                    {f.options.map((o) => (
                      <option value={o} selected={(values[f.name] ?? f.options?.[0]) === o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={id}
                    type={f.secret ? "password" : "text"}
                    autocomplete={f.secret ? "new-password" : "off"}
                    required={!f.optional}
                    value={values[f.name] ?? ""}
                    onInput={setValue(f.name)}
                  />
                )
              }
            </Field>
          ))
        : null}
      <Field
        label="Mapping (optional)"
        hint={`JSON that becomes the event's data, e.g. {"repo": "{{trigger.repository.full_name}}", "event": "{{headers.x-github-event}}"}. Empty: the body as it is.`}
      >
        {(id) => (
          <textarea
            id={id}
            rows={4}
            spellcheck={false}
            class="mono"
            value={mapping}
            onInput={(e: Event) => setMapping((e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
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
