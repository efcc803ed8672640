/**
 * The page's form logic, free of the DOM and of the API client (so it is unit-tested in Node):
 * turning what a user typed into request bodies, and telling them what a value means.
 */
import type { VerificationScheme } from "../../common/enums";
import { hasScope } from "../../common/scopes";

/** One name/value row of the "Custom headers" or "Custom fields" editor. */
export type Pair = { name: string; value: string };

/** The rows as an object, blank rows left out; null when none is left. Names are trimmed, values kept as typed. */
export function pairsToRecord(rows: Pair[]): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = r.name.trim();
    if (name) out[name] = r.value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** An object shown as rows (at least one, blank, to type into). */
export function recordToPairs(record: Record<string, unknown> | null | undefined): Pair[] {
  const rows = Object.entries(record ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  return rows.length > 0 ? rows : [{ name: "", value: "" }];
}

/** "One CIDR per line" as a list: blank lines and surrounding spaces dropped; the API checks each range. */
export function cidrLines(text: string): string[] {
  return text
    .split(/[\r\n]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A date input's day as the end of that day, UTC (a key "expiring on" a day works through it). */
export function endOfDayUtc(day: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const d = new Date(`${day}T23:59:59.000Z`);
  // Date rolls 2031-02-30 over into March: a day that does not exist is not that day.
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day ? null : d.toISOString();
}

/** How a key is recognised without its secret: its first characters and last four. */
export const keyHint = (k: { start: string; last4: string }) => `${k.start}…${k.last4}`;

/** The scopes a session may hand on: those it holds itself (its wildcards cover the product's scopes too). */
export function grantable<S extends { name: string }>(listed: S[], held: string[]): S[] {
  const product = listed.map((s) => s.name);
  return listed.filter((s) => hasScope(held, s.name, product));
}

/** A mapping textarea's JSON: empty is no mapping (the body is the event's data); anything else must parse. */
export function parseMapping(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `Mapping is not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A field a verification scheme asks for. `secret`: typed in a password box, never shown again. */
export type SchemeField = {
  name: string;
  label: string;
  secret?: boolean;
  optional?: boolean;
  options?: readonly string[];
  hint?: string;
};

const SIGNING_SECRET: SchemeField = { name: "secret", label: "Signing secret", secret: true };

/** Each scheme's fields, as the API names them. */
export const SCHEME_FIELDS: Record<VerificationScheme, SchemeField[]> = {
  hmac: [
    SIGNING_SECRET,
    { name: "header", label: "Signature header", hint: "The header the sender puts the signature in, e.g. X-Signature." },
    { name: "algorithm", label: "Algorithm", options: ["sha256", "sha1", "sha512"] },
    { name: "encoding", label: "Encoding", options: ["hex", "base64"] },
    { name: "prefix", label: "Prefix (optional)", optional: true, hint: "Text before the signature, e.g. sha256=." },
  ],
  stripe: [{ ...SIGNING_SECRET, hint: "The endpoint's whsec_ secret from Stripe." }],
  github: [{ ...SIGNING_SECRET, hint: "The webhook secret set in GitHub." }],
  meta: [
    { ...SIGNING_SECRET, label: "App secret" },
    { name: "verifyToken", label: "Verify token", hint: "The token Meta sends in its subscribe handshake." },
  ],
  shopify: [{ ...SIGNING_SECRET, hint: "The app's client secret." }],
  slack: [{ ...SIGNING_SECRET, hint: "The app's signing secret." }],
  "standard-webhooks": [{ ...SIGNING_SECRET, hint: "The whsec_ secret (Svix and other Standard Webhooks senders)." }],
  twilio: [{ ...SIGNING_SECRET, label: "Auth token" }],
  basic: [
    { name: "username", label: "Username" },
    { name: "password", label: "Password", secret: true },
  ],
  "api-key": [
    { name: "header", label: "Header", hint: "The header the sender puts the key in, e.g. X-Api-Key." },
    { name: "secret", label: "Key", secret: true },
  ],
};

/** The `verification` object of a source from the form's values (blank optional fields left out; selects default to their first option). */
export function verificationBody(scheme: VerificationScheme, values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { scheme };
  for (const f of SCHEME_FIELDS[scheme]) {
    const v = values[f.name] ?? (f.options ? f.options[0] : "");
    if (v === undefined || (v === "" && f.optional)) continue;
    out[f.name] = v;
  }
  return out;
}

type DeliveryState = { status: string; nextAttemptAt: string | null; attemptCount: number };

/** What a delivery is doing, in words: "Retrying: next attempt …" for a pending delivery that already failed. */
export function deliveryState(d: DeliveryState, when: (iso: string) => string): string {
  if (d.status === "pending") {
    if (d.attemptCount === 0) return d.nextAttemptAt ? `Pending: first attempt due ${when(d.nextAttemptAt)}` : "Pending";
    if (d.nextAttemptAt) return `Retrying: next attempt due ${when(d.nextAttemptAt)}`;
    return "Held: the endpoint is disabled or its circuit breaker is open, so the next attempt waits";
  }
  return `${capitalise(d.status)} after ${d.attemptCount} attempt${d.attemptCount === 1 ? "" : "s"}`;
}

/** Why "Retry" cannot be used now (null: it can): the API's own rules, said before the click. */
export function retryUnavailable(
  d: { status: string },
  endpoint: { isEnabled: boolean } | null | undefined,
  canWrite: boolean,
): string | null {
  if (!canWrite) return "Retry needs the webhooks:write scope.";
  if (d.status === "pending") return "Retry is unavailable: this delivery is still pending and will be attempted on its schedule.";
  if (endpoint === null) return "Retry is unavailable: the endpoint of this delivery was deleted.";
  if (endpoint && !endpoint.isEnabled) return "Retry is unavailable: the endpoint is disabled; enable it first.";
  return null;
}

/** The delivery log's status filter: the labels a user sees for the API's values. */
export const STATUS_FILTERS = [
  { value: "succeeded", label: "Succeeded" },
  { value: "failed", label: "Failed" },
  { value: "pending", label: "Pending" },
] as const;

export const capitalise = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
