import { api } from "./api";

/** A dashboard session as the API grants it; the page keeps it for this tab only. */
export type Session = {
  token: string;
  sessionId: string;
  kind: "dashboard" | "portal";
  expiresAt: string;
  tenantId: string;
  credentialId: string;
  scopes: string[];
};

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
  return api<Session>("POST", "/v1/dashboard-sessions", undefined, key);
}

/** Opens a one-time portal link (its token is the fragment of the page's URL). */
export function openPortalLink(token: string): Promise<Session> {
  return api<Session>("POST", "/v1/portal-sessions/redeem", { token }, null);
}

export function endSession(s: Session): Promise<void> {
  return api<void>("DELETE", "/v1/dashboard-sessions/current", undefined, s.token);
}

/** True when the session's scopes allow `scope` (`api:read` / `api:write` stand for every read / write). */
export function allows(s: Session, scope: string): boolean {
  const kind = scope.endsWith(":write") ? "api:write" : "api:read";
  return s.scopes.includes(scope) || s.scopes.includes(kind);
}
