import { useState } from "hono/jsx/dom";
import { messageOf } from "../api";
import { type Session, signInWithKey } from "../session";
import { ErrorNote } from "../ui";

/** The sign-in form: the key is exchanged for a session and cleared from the form at once. */
export function SignIn({ notice, onSession }: { notice: string | null; onSession: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const presented = key.trim();
    setKey("");
    if (!presented) return setError("Enter an API key");
    setBusy(true);
    setError(null);
    try {
      onSession(await signInWithKey(presented));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>Sign in</h1>
      <p>Sign in with one of your API keys. The dashboard can do what the key's scopes allow, for 8 hours at most.</p>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit}>
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={key}
            onInput={(e: Event) => setKey((e.target as HTMLInputElement).value)}
          />
        </div>
        <ErrorNote error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
