import { useEffect, useState } from "hono/jsx/dom";
import { ApiError, messageOf, type OperatorSession } from "../api";
import { type Session, signInAsOperator, signInThroughAccess, signInWithKey } from "../session";
import { ErrorNote } from "../ui";

type Props = {
  notice: string | null;
  onSession: (s: Session) => void;
  onOperator: (s: OperatorSession) => void;
  /** Cloudflare Access stands in front (the page's request carried its assertion): sign in through it at once. */
  behindAccess?: boolean;
};

const refused = (err: unknown) => err instanceof ApiError && err.problem.status === 401;

/** A value typed into "API key" is tried as a key, then (refused as one) as the operator token. */
async function signInWithEither(presented: string, props: Props): Promise<void> {
  try {
    props.onSession(await signInWithKey(presented));
  } catch (err) {
    if (!refused(err)) throw err;
    try {
      props.onOperator(await signInAsOperator(presented));
    } catch {
      throw err;
    }
  }
}

/**
 * The sign-in form: an API key (a tenant's dashboard) or the operator token (the operator
 * console). Either is exchanged for a session and cleared from the form at once.
 */
export function SignIn(props: Props) {
  const { notice, onOperator, behindAccess } = props;
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
      else await signInWithEither(presented, props);
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
  useEffect(() => {
    // Arriving through Access opens the console (not after a sign-out: the notice says so); a refusal is shown.
    if (behindAccess && !notice) void throughAccess();
  }, []);
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
