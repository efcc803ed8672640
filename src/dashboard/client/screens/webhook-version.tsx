import { useEffect, useState } from "hono/jsx/dom";
import { type EventType, hookgate, unwrap, type Webhook } from "../api";
import { useAction } from "../hooks";
import { Confirm, ErrorNote } from "../ui";

type PatchOp = NonNullable<EventType["versions"][number]["downgrade"]>[number];

/** A version's downgrade read the other way round: what the version changed, in words. */
function changeOf(op: PatchOp): string | null {
  const field = (pointer: string | undefined) => (pointer ?? "").replace(/^\//, "").replaceAll("/", ".") || "the whole payload";
  if (op.op === "remove") return `adds ${field(op.path)}`;
  if (op.op === "add") return `no longer sends ${field(op.path)}`;
  if (op.op === "move") return `renames ${field(op.path)} to ${field(op.from)}`;
  if (op.op === "replace") return `changes ${field(op.path)}`;
  if (op.op === "copy") return `no longer sends ${field(op.path)} (a copy of ${field(op.from)})`;
  return null;
}

/** The next version after `pin` among the endpoint's types, with what it changes in each type it belongs to. */
function nextVersion(types: EventType[], pin: string | null): { version: string; changes: string[] } | null {
  const later = types.flatMap((t) => t.versions.filter((v) => pin !== null && v.version > pin).map((v) => v.version));
  // Pinned before every version (null): the types' first versions are what it gets; the next is each one's second.
  const unpinned = pin === null ? types.flatMap((t) => t.versions.slice(1, 2).map((v) => v.version)) : [];
  const version = [...later, ...unpinned].sort()[0];
  if (!version) return null;
  const changes = types.flatMap((t) =>
    t.versions
      .filter((v) => v.version === version)
      .flatMap((v) =>
        (v.downgrade ?? [])
          .map(changeOf)
          .filter((c): c is string => c !== null)
          .map((c) => `${t.name} ${c}`),
      ),
  );
  return { version, changes };
}

/**
 * The endpoint's payload version, and "Upgrade" to the next one of its
 * types: the changes that version makes are listed before confirming.
 */
export function WebhookVersion({ webhook: w, canWrite, onChanged }: { webhook: Webhook; canWrite: boolean; onChanged: () => void }) {
  const action = useAction();
  const [types, setTypes] = useState<EventType[]>([]);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    const names = w.eventTypes.includes("*") ? null : w.eventTypes;
    const load = names
      ? Promise.all(names.map((name) => unwrap(hookgate().GET("/v1/event-types/{name}", { params: { path: { name } } }))))
      : unwrap(hookgate().GET("/v1/event-types", { params: { query: { limit: 100 } } })).then((page) => page.data);
    load.then((found) => setTypes(found.filter((t) => t.versions.length > 0))).catch(() => setTypes([]));
  }, [w.id, w.eventTypes.join(",")]);

  if (types.length === 0 && w.version === null) return null;
  const next = nextVersion(types, w.version);
  const upgrade = async () => {
    setConfirming(false);
    if (!next) return;
    const done = await action.run(() =>
      unwrap(hookgate().PATCH("/v1/webhooks/{id}", { params: { path: { id: w.id } }, body: { version: next.version } })),
    );
    if (done) onChanged();
  };
  return (
    <div class="webhook-version">
      <dl class="facts">
        <dt>Version</dt>
        <dd class="mono">{w.version ?? "first version of each type"}</dd>
      </dl>
      {canWrite && next ? (
        <div class="actions">
          <button type="button" class="secondary" disabled={action.busy} onClick={() => setConfirming(true)}>
            Upgrade
          </button>
        </div>
      ) : null}
      <ErrorNote error={action.error} />
      {confirming && next ? (
        <Confirm
          title={`Upgrade to ${next.version}?`}
          message={`Deliveries to ${w.url} change from the next one on: ${next.changes.length > 0 ? next.changes.join("; ") : "no field changes listed"}.`}
          action="Upgrade"
          onConfirm={upgrade}
          onCancel={() => setConfirming(false)}
        />
      ) : null}
    </div>
  );
}
