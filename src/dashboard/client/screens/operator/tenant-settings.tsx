import type { Child } from "hono/jsx/dom";
import { useState } from "hono/jsx/dom";
import { ApiError, hookgate, messageOf, type Tenant, type UpdateTenant, unwrap } from "../../api";
import { ErrorNote } from "../../ui";

type Quotas = Tenant["quotas"];
const QUOTAS: { name: keyof Quotas; label: string }[] = [
  { name: "apiKeys", label: "API keys" },
  { name: "oauthClients", label: "OAuth clients" },
  { name: "webhooks", label: "Webhooks" },
  { name: "sources", label: "Sources" },
  { name: "eventTypes", label: "Event types" },
];

type Form = {
  quotas: Record<keyof Quotas, string>;
  readLimit: string;
  readWindow: string;
  writeLimit: string;
  writeWindow: string;
  retrySchedule: string;
  breakerThreshold: string;
  apiAccess: boolean;
  dataShards: string;
  portalOrigins: string;
};

const text = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));

function formOf(t: Tenant): Form {
  return {
    quotas: Object.fromEntries(QUOTAS.map((q) => [q.name, String(t.quotas[q.name])])) as Form["quotas"],
    readLimit: text(t.rateLimits?.read?.limit),
    readWindow: text(t.rateLimits?.read?.windowSeconds),
    writeLimit: text(t.rateLimits?.write?.limit),
    writeWindow: text(t.rateLimits?.write?.windowSeconds),
    retrySchedule: (t.retrySchedule ?? []).join(", "),
    breakerThreshold: text(t.breakerThreshold),
    apiAccess: t.apiAccess,
    dataShards: String(t.dataShards),
    portalOrigins: t.portalOrigins.join("\n"),
  };
}

/** A number as typed; what is not a number goes to the API as it is, so its 422 names the field. */
const num = (s: string): number => (s.trim() === "" ? Number.NaN : Number(s.trim()));
const rateWindow = (limit: string, seconds: string) =>
  limit.trim() === "" && seconds.trim() === "" ? undefined : { limit: num(limit), windowSeconds: num(seconds) };

function bodyOf(f: Form): UpdateTenant {
  const read = rateWindow(f.readLimit, f.readWindow);
  const write = rateWindow(f.writeLimit, f.writeWindow);
  const delays = f.retrySchedule
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean)
    .map((d) => (/^\d+$/.test(d) ? Number(d) : d));
  return {
    quotas: Object.fromEntries(QUOTAS.map((q) => [q.name, num(f.quotas[q.name])])),
    rateLimits: read || write ? { ...(read && { read }), ...(write && { write }) } : null,
    retrySchedule: delays.length ? delays : null,
    breakerThreshold: f.breakerThreshold.trim() === "" ? null : num(f.breakerThreshold),
    apiAccess: f.apiAccess,
    dataShards: num(f.dataShards),
    portalOrigins: f.portalOrigins
      .split(/\s+/)
      .map((o) => o.trim())
      .filter(Boolean),
  };
}

/** "Settings": the tenant's quotas, rate limits, retry schedule, breaker threshold, API access, data shards and portal origins. */
export function TenantSettings({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const [form, setForm] = useState<Form>(() => formOf(tenant));
  const [errors, setErrors] = useState<{ path: string; message: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  const errorsOf = (...paths: string[]) =>
    errors.filter((e) => paths.some((p) => e.path === p || e.path.startsWith(`${p}.`))).map((e) => `${e.path}: ${e.message}`);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setErrors([]);
    setStatus("");
    try {
      const body = JSON.parse(JSON.stringify(bodyOf(form), (_k, v) => (typeof v === "number" && Number.isNaN(v) ? "" : v)));
      const saved = await unwrap(hookgate().PATCH("/admin/tenants/{id}", { params: { path: { id: tenant.id } }, body }));
      setStatus("Saved.");
      setForm(formOf(saved));
      onSaved(saved);
    } catch (err) {
      if (err instanceof ApiError && err.problem.errors?.length) setErrors(err.problem.errors);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const input = (id: string, label: string, value: string, onInput: (v: string) => void, paths: string[], hint?: string) => (
    <Labelled id={id} label={label} hint={hint} errors={errorsOf(...paths)}>
      <input
        id={id}
        inputMode="numeric"
        value={value}
        aria-invalid={errorsOf(...paths).length ? "true" : undefined}
        aria-describedby={`${id}-note`}
        onInput={(e: Event) => onInput((e.target as HTMLInputElement).value)}
      />
    </Labelled>
  );

  return (
    <form class="panel" onSubmit={save} aria-labelledby="settings-h" noValidate>
      <h2 id="settings-h">Settings</h2>
      <fieldset>
        <legend>Quotas</legend>
        <div class="filters">
          {QUOTAS.map((q) =>
            input(`quota-${q.name}`, q.label, form.quotas[q.name], (v) => set({ quotas: { ...form.quotas, [q.name]: v } }), [
              `quotas.${q.name}`,
            ]),
          )}
        </div>
      </fieldset>
      <fieldset>
        <legend>Rate limits</legend>
        <div class="filters">
          {input("rl-read-limit", "Reads per window", form.readLimit, (v) => set({ readLimit: v }), ["rateLimits.read.limit"])}
          {input("rl-read-window", "Read window (s)", form.readWindow, (v) => set({ readWindow: v }), ["rateLimits.read.windowSeconds"])}
          {input("rl-write-limit", "Writes per window", form.writeLimit, (v) => set({ writeLimit: v }), ["rateLimits.write.limit"])}
          {input("rl-write-window", "Write window (s)", form.writeWindow, (v) => set({ writeWindow: v }), [
            "rateLimits.write.windowSeconds",
          ])}
        </div>
      </fieldset>
      <Labelled
        id="retry"
        label="Retry schedule"
        hint="Delays, comma-separated: 30s, 5m, 2h. Empty: the default."
        errors={errorsOf("retrySchedule")}
      >
        <input
          id="retry"
          value={form.retrySchedule}
          aria-describedby="retry-note"
          aria-invalid={errorsOf("retrySchedule").length ? "true" : undefined}
          onInput={(e: Event) => set({ retrySchedule: (e.target as HTMLInputElement).value })}
        />
      </Labelled>
      {input(
        "breaker",
        "Breaker threshold",
        form.breakerThreshold,
        (v) => set({ breakerThreshold: v }),
        ["breakerThreshold"],
        "Empty: the default.",
      )}
      {input("shards", "Data shards", form.dataShards, (v) => set({ dataShards: v }), ["dataShards"])}
      <label class="switch">
        <input
          type="checkbox"
          role="switch"
          aria-checked={form.apiAccess ? "true" : "false"}
          checked={form.apiAccess}
          onChange={(e: Event) => set({ apiAccess: (e.target as HTMLInputElement).checked })}
        />
        <span>API access</span>
      </label>
      <Labelled id="origins" label="Portal origins" hint="One origin a line (https://app.example.com)." errors={errorsOf("portalOrigins")}>
        <textarea
          id="origins"
          rows={3}
          aria-describedby="origins-note"
          aria-invalid={errorsOf("portalOrigins").length ? "true" : undefined}
          onInput={(e: Event) => set({ portalOrigins: (e.target as HTMLTextAreaElement).value })}
        >
          {form.portalOrigins}
        </textarea>
      </Labelled>
      <ErrorNote error={error} />
      <p role="status" class="hint">
        {status}
      </p>
      <button type="submit" disabled={busy}>
        Save
      </button>
    </form>
  );
}

function Labelled(props: { id: string; label: string; hint?: string; errors: string[]; children: Child }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      <div id={`${props.id}-note`}>
        {props.hint ? <p class="hint">{props.hint}</p> : null}
        {props.errors.map((m) => (
          <p class="error">{m}</p>
        ))}
      </div>
    </div>
  );
}
