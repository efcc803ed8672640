import { hasScope } from "../../shared/scopes";
import { hookgate, type Session, unwrap } from "./api";

/** A dashboard session as the API grants it; the page keeps it for this tab only. */
export type { Session };

const KEY = "hookgate.session";
// Where sessionStorage is refused (a sandboxed or storage-blocked frame), the session lives in memory only.
let memory: Session | null = null;

function tabStorage(): Storage | null {
  try {
    const s = window.sessionStorage;
    s.getItem(KEY);
    return s;
  } catch {
    return null;
  }
}

export function loadSession(): Session | null {
  let s = memory;
  try {
    const raw = tabStorage()?.getItem(KEY);
    if (raw) s = JSON.parse(raw) as Session;
  } catch {
    s = null;
  }
  if (!s || Date.parse(s.expiresAt) <= Date.now()) return null;
  return s;
}

export function saveSession(s: Session | null): void {
  memory = s;
  const storage = tabStorage();
  if (!storage) return;
  if (s) storage.setItem(KEY, JSON.stringify(s));
  else storage.removeItem(KEY);
}

/** Exchanges an API key for a session: the key is sent once, in this request, and kept nowhere. */
export function signInWithKey(key: string): Promise<Session> {
  return unwrap(hookgate(key).POST("/v1/dashboard-sessions"), key);
}

/** Opens a one-time portal link (its token is the fragment of the page's URL). */
export function openPortalLink(token: string): Promise<Session> {
  return unwrap(hookgate(null).POST("/v1/portal-sessions/redeem", { body: { token } }), null);
}

export async function endSession(s: Session): Promise<void> {
  await unwrap(hookgate(s.token).DELETE("/v1/dashboard-sessions/current"), s.token);
}

/** True when the session's scopes allow `scope` (the API's own rule: `api:read` / `api:write` stand for every read / write). */
export function allows(s: Session, scope: string): boolean {
  return hasScope(s.scopes, scope);
}
