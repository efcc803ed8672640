import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, type Gateway, hookgate, messageOf, type PutGateway, unwrap } from "../../api";
import { when } from "../../format";
import { ErrorNote, Field } from "../../ui";

type Route = Gateway["routes"][number];

/** A route a line: `METHOD /path scope cost` ("-" for no scope; cost 1 when left out). */
const lineOf = (r: Route) => [r.method, r.path, r.scope ?? "-", ...(r.cost === 1 ? [] : [r.cost])].join(" ");

function routeOf(line: string): Record<string, unknown> {
  const [method = "", path = "", scope, cost] = line.trim().split(/\s+/);
  return {
    method: method.toUpperCase(),
    path,
    ...(scope && scope !== "-" && { scope }),
    ...(cost !== undefined && { cost: /^\d+$/.test(cost) ? Number(cost) : cost }),
  };
}

/** "Gateway": the operator's API behind Hookgate: its origin, hosts and routes with their scopes; "Save" replaces them. */
export function GatewayScreen() {
  const [form, setForm] = useState<{ origin: string; hosts: string; routes: string } | null>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const adopt = (g: Gateway | null) => {
    setForm({ origin: g?.origin ?? "", hosts: (g?.hosts ?? []).join("\n"), routes: (g?.routes ?? []).map(lineOf).join("\n") });
    setUpdatedAt(g?.updatedAt ?? null);
  };
  useEffect(() => {
    unwrap(hookgate().GET("/admin/gateway"))
      .then(adopt)
      .catch((e) => (e instanceof ApiError && e.problem.status === 404 ? adopt(null) : setError(messageOf(e))));
  }, []);
  if (!form) {
    return (
      <section aria-labelledby="gateway-h">
        <h1 id="gateway-h">Gateway</h1>
        {error ? <ErrorNote error={error} /> : <p class="hint">Loading…</p>}
      </section>
    );
  }
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setStatus("");
    const lines = (text: string) =>
      text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    try {
      // What was typed goes as it is: the API's 422 names a bad route by its line (routes.N).
      const body = {
        origin: form.origin.trim(),
        hosts: lines(form.hosts),
        routes: lines(form.routes).map(routeOf) as PutGateway["routes"],
      };
      adopt(await unwrap(hookgate().PUT("/admin/gateway", { body })));
      setStatus("Saved.");
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="gateway-h">
      <h1 id="gateway-h">Gateway</h1>
      <p class="hint">{updatedAt ? `Last changed ${when(updatedAt)}.` : "No gateway is set up yet."}</p>
      <form class="panel" onSubmit={save} aria-label="Gateway settings">
        <Field label="Origin" hint="Where matching requests are proxied, e.g. https://api.example.com">
          {(id) => (
            <input id={id} value={form.origin} onInput={(e: Event) => setForm({ ...form, origin: (e.target as HTMLInputElement).value })} />
          )}
        </Field>
        <Field label="Hosts" hint="Hostnames whose every request goes through the gateway, one a line.">
          {(id) => (
            <textarea id={id} rows={2} onInput={(e: Event) => setForm({ ...form, hosts: (e.target as HTMLTextAreaElement).value })}>
              {form.hosts}
            </textarea>
          )}
        </Field>
        <Field
          label="Routes"
          hint='One a line: METHOD /path scope cost, e.g. "GET /v1/tests/* tests:read 1" ("*" any method, "-" no scope).'
        >
          {(id) => (
            <textarea
              id={id}
              rows={6}
              class="mono"
              onInput={(e: Event) => setForm({ ...form, routes: (e.target as HTMLTextAreaElement).value })}
            >
              {form.routes}
            </textarea>
          )}
        </Field>
        <ErrorNote error={error} />
        <p role="status" class="hint">
          {status}
        </p>
        <button type="submit" disabled={busy}>
          Save
        </button>
      </form>
    </section>
  );
}
