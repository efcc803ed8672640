import { useEffect, useState } from "hono/jsx/dom";
import { hookgate, messageOf, unwrap } from "../api";
import { cidrLines, endOfDayUtc, grantable } from "../forms";
import { ErrorNote, Field } from "../ui";

export type Listed = { name: string; description: string | null; owner: "hookgate" | "operator" };

/** What "Create key" and "Create client" send: the same restrictions for both kinds of credential. */
export type CredentialBody = { name: string; scopes: string[]; expiresAt?: string; ipAllowlist?: string[] };

/** Every scope a credential can be granted (Hookgate's and the product's), from GET /v1/scopes. */
function useScopes(): { scopes: Listed[]; error: string | null } {
  const [scopes, setScopes] = useState<Listed[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    unwrap(hookgate().GET("/v1/scopes"))
      .then((list) => live && setScopes(list.data))
      .catch((e) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, []);
  return { scopes, error };
}

/**
 * The form of a new key or OAuth client: a name, a checkbox per scope this session may hand on (with
 * what it grants), an optional expiry day and an optional IP allowlist (one CIDR per line).
 */
export function CredentialForm(props: {
  title: string;
  submitLabel: string;
  held: string[];
  busy: boolean;
  error: string | null;
  onSubmit: (body: CredentialBody) => void;
  onCancel: () => void;
}) {
  const listed = useScopes();
  const offered = grantable(listed.scopes, props.held);
  const [name, setName] = useState("");
  // Until the user picks, the Hookgate read scopes it may grant are ticked: a read-only credential by default.
  const [picked, setPicked] = useState<string[] | null>(null);
  const scopes =
    picked ?? offered.filter((s) => s.owner === "hookgate" && s.name.endsWith(":read") && s.name !== "api:read").map((s) => s.name);
  const [expires, setExpires] = useState("");
  const [allowlist, setAllowlist] = useState("");
  const toggle = (s: string) => setPicked(scopes.includes(s) ? scopes.filter((x) => x !== s) : [...scopes, s]);
  const submit = (e: Event) => {
    e.preventDefault();
    const body: CredentialBody = { name, scopes };
    const expiresAt = expires ? endOfDayUtc(expires) : null;
    if (expiresAt) body.expiresAt = expiresAt;
    const ranges = cidrLines(allowlist);
    if (ranges.length > 0) body.ipAllowlist = ranges;
    props.onSubmit(body);
  };
  return (
    <form class="panel" onSubmit={submit}>
      <h2>{props.title}</h2>
      <Field label="Name">
        {(id) => (
          <input id={id} required maxLength={100} value={name} onInput={(e: Event) => setName((e.target as HTMLInputElement).value)} />
        )}
      </Field>
      <fieldset>
        <legend>Scopes</legend>
        <ErrorNote error={listed.error} />
        {offered.length === 0 && !listed.error ? <p class="hint">Loading scopes…</p> : null}
        <ul class="checks scopes">
          {offered.map((s) => (
            <li>
              <label>
                <input type="checkbox" value={s.name} checked={scopes.includes(s.name)} onChange={() => toggle(s.name)} />{" "}
                <span class="mono">{s.name}</span>
                {s.owner === "operator" ? <span class="badge">product</span> : null}
                {s.description ? <span class="hint"> {s.description}</span> : null}
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <Field label="Expires (optional)" hint="It stops working at the end of this day (UTC).">
        {(id) => <input id={id} type="date" value={expires} onInput={(e: Event) => setExpires((e.target as HTMLInputElement).value)} />}
      </Field>
      <Field label="IP allowlist (optional)" hint="One IPv4 or IPv6 range (CIDR) per line, e.g. 203.0.113.0/24. Empty: any address.">
        {(id) => (
          <textarea
            id={id}
            rows={3}
            spellcheck={false}
            value={allowlist}
            onInput={(e: Event) => setAllowlist((e.target as HTMLTextAreaElement).value)}
          />
        )}
      </Field>
      <ErrorNote error={props.error} />
      <div class="actions">
        <button type="submit" disabled={props.busy || scopes.length === 0}>
          {props.submitLabel}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
