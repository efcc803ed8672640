import type { Child } from "hono/jsx/dom";
import { useEffect, useId, useRef, useState } from "hono/jsx/dom";

/** A ref callback: moves keyboard focus to the element once it is in the page (a view that replaced another). */
export const focusOnMount = (el: HTMLElement | null) => {
  el?.focus();
};

/** An error line, announced to screen readers. */
export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function LoadMore({ next, loading, more }: { next: string | null; loading: boolean; more: () => void }) {
  if (!next) return null;
  return (
    <button type="button" class="secondary" disabled={loading} onClick={more}>
      Load more
    </button>
  );
}

/**
 * A modal confirmation (a native <dialog>: focus stays inside it, Escape
 * cancels). Focus goes back to where it was when it closes.
 */
export function Confirm(props: { title: string; message: string; action: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby={`${id}-t`}
      aria-describedby={`${id}-m`}
      onCancel={(e: Event) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={`${id}-t`}>{props.title}</h2>
      <p id={`${id}-m`}>{props.message}</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.action}
        </button>
      </div>
    </dialog>
  );
}

/**
 * A secret shown this once (a new key, signing secret, source URL), with a
 * "Copy" button. It lives in this component's state only: "Done", a reload
 * or leaving the screen forgets it.
 */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("Copied to the clipboard");
    } catch {
      input.current?.select();
      setCopied(document.execCommand("copy") ? "Copied to the clipboard" : "Selected: copy it with your keyboard");
    }
  };
  return (
    <section class="secret" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{label}</h2>
      <p>Copy it now: it is shown this once and cannot be retrieved later.</p>
      <div class="secret-row">
        <label class="sr-only" for={id}>
          {label}
        </label>
        <input id={id} ref={input} type="text" readOnly value={value} spellcheck={false} autocomplete="off" />
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p role="status" class="hint">
        {copied ?? ""}
      </p>
      <button type="button" class="secondary" onClick={onDone}>
        Done
      </button>
    </section>
  );
}

/** A labelled form control. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => Child }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint ? <p class="hint">{hint}</p> : null}
    </div>
  );
}

/** A table that turns into stacked rows on a narrow screen (each cell says its column). */
export function DataTable({ caption, columns, children }: { caption: string; columns: string[]; children: Child }) {
  return (
    <table class="data">
      <caption class="sr-only">{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

export function Cell({ label, children }: { label: string; children?: Child }) {
  return (
    <td data-label={label}>
      <div>{children}</div>
    </td>
  );
}

export function Empty({ what, loading }: { what: string; loading: boolean }) {
  return <p class="hint">{loading ? "Loading…" : `No ${what} yet.`}</p>;
}

/** Copies `text` to the clipboard (falls back to selecting nothing and saying so); the outcome is announced. */
export async function copyText(text: string): Promise<string> {
  try {
    await navigator.clipboard.writeText(text);
    return "Copied to the clipboard";
  } catch {
    return `Could not reach the clipboard: ${text}`;
  }
}

/** A name/value row editor ("Custom headers", "Custom fields"): a row per pair, "Remove" per row, an add button. */
export function PairRows(props: {
  legend: string;
  addLabel: string;
  rows: { name: string; value: string }[];
  onChange: (rows: { name: string; value: string }[]) => void;
  hint?: string;
  valuePlaceholder?: string;
}) {
  const id = useId();
  const set = (i: number, part: "name" | "value", v: string) =>
    props.onChange(props.rows.map((r, j) => (j === i ? { ...r, [part]: v } : r)));
  return (
    <fieldset class="pairs">
      <legend>{props.legend}</legend>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      {props.rows.map((r, i) => (
        <div class="pair-row">
          <label class="sr-only" for={`${id}-n${i}`}>
            {`${props.legend}: name ${i + 1}`}
          </label>
          <input
            id={`${id}-n${i}`}
            placeholder="Name"
            value={r.name}
            autocomplete="off"
            onInput={(e: Event) => set(i, "name", (e.target as HTMLInputElement).value)}
          />
          <label class="sr-only" for={`${id}-v${i}`}>
            {`${props.legend}: value ${i + 1}`}
          </label>
          <input
            id={`${id}-v${i}`}
            placeholder={props.valuePlaceholder ?? "Value"}
            value={r.value}
            autocomplete="off"
            onInput={(e: Event) => set(i, "value", (e.target as HTMLInputElement).value)}
          />
          <button
            type="button"
            class="secondary"
            aria-label={`Remove row ${i + 1} of ${props.legend}`}
            onClick={() => props.onChange(props.rows.length > 1 ? props.rows.filter((_, j) => j !== i) : [{ name: "", value: "" }])}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => props.onChange([...props.rows, { name: "", value: "" }])}>
        {props.addLabel}
      </button>
    </fieldset>
  );
}
