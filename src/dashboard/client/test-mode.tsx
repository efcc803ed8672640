import { useState } from "hono/jsx/dom";
import { hookgate, messageOf, unwrap } from "./api";
import type { Session } from "./session";

/**
 * The header's "Test mode" switch. Turning it asks the API for a session of
 * the same key viewing the other mode (the calling one ends), which the page
 * adopts: every screen then loads that mode's data. A test key's session is
 * in test mode for good, so its switch shows on and cannot be turned off.
 */
export function TestModeSwitch({ session, onSession }: { session: Session; onSession: (s: Session) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const on = session.mode === "test";
  const locked = !session.modes.includes("live");
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      const mode = on ? "live" : "test";
      onSession(await unwrap(hookgate(session.token).POST("/v1/dashboard-sessions/current/mode", { body: { mode } }), session.token));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="test-mode-switch">
      <label title={locked ? "This key is a test mode key: it works in test mode only" : undefined}>
        <input type="checkbox" role="switch" checked={on} aria-checked={on} disabled={busy || locked} onChange={toggle} />
        Test mode
      </label>
      {error ? (
        <span class="test-mode-error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

/** The banner every screen shows while the session views test mode. */
export function TestModeBanner({ session }: { session: Session }) {
  if (session.mode !== "test") return null;
  return (
    <div class="test-mode-banner" role="status">
      <strong>Test mode</strong>
      <span>You are viewing test data: keys, webhooks and events here never touch live ones.</span>
    </div>
  );
}

/** Marks a test mode credential in a list that shows both modes (the operator's). */
export function ModeBadge({ mode }: { mode: "live" | "test" }) {
  return mode === "test" ? <span class="mode-badge">Test mode</span> : null;
}
