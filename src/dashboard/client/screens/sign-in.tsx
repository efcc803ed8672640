import { useState } from "hono/jsx/dom";
import { messageOf, type OperatorSession } from "../api";
import { type Session, signInAsOperator, signInThroughAccess, signInWithKey } from "../session";
import { ErrorNote } from "../ui";

type Props = { notice: string | null; onSession: (s: Session) => void; onOperator: (s: OperatorSession) => void };

/**
 * The sign-in form: an API key (a tenant's dashboard) or the operator token (the operator
 * console). Either is exchanged for a session and cleared from the form at once.
 */
export function SignIn({ notice, onSession, onOperator }: Props) {
  const [operator, setOperator] = useState(false);
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = operator ? "Operator token" : "API key";
  const submit = async (e: Event) => {
    e.preventDefault();
    const presented = key.trim();
    setKey("");
    if (!presented) return setError(`Enter the ${label.toLowerCase()}`);
    setBusy(true);
    setError(null);
    try {
      if (operator) onOperator(await signInAsOperator(presented));
      else onSession(await signInWithKey(presented));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const throughAccess = async () => {
    setBusy(true);
    setError(null);
    try {
      onOperator(await signInThroughAccess());
    } catch (err) {
      setError(`Cloudflare Access did not identify you: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  };
  const switchMode = () => {
    setOperator(!operator);
    setKey("");
    setError(null);
  };
  return (
    <main class="signin" id="main">
      <h1>Sign in</h1>
      <p>
        {operator
          ? "Sign in with the operator token (ADMIN_TOKEN) to support every tenant, for 8 hours at most. The token is not kept by the browser."
          : "Sign in with one of your API keys. The dashboard can do what the key's scopes allow, for 8 hours at most."}
      </p>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit}>
        <div class="field">
          <label for="api-key">{label}</label>
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
        <div class="actions">
          <button type="submit" disabled={busy}>
            Sign in
          </button>
          {operator ? (
            <button type="button" class="secondary" disabled={busy} onClick={throughAccess}>
              Sign in through Cloudflare Access
            </button>
          ) : null}
          <button type="button" class="secondary" onClick={switchMode}>
            {operator ? "Use an API key instead" : "Use the operator token instead"}
          </button>
        </div>
      </form>
    </main>
  );
}
