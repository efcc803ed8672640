import { hasScope } from "../../common/scopes";
import { hookgate, type OperatorSession, type Session, unwrap } from "./api";

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

const OPERATOR_KEY = "hookgate.operator";
let operatorMemory: OperatorSession | null = null;

/** The operator console's session for this tab (never the operator token itself). */
export function loadOperatorSession(): OperatorSession | null {
  let s = operatorMemory;
  try {
    const raw = tabStorage()?.getItem(OPERATOR_KEY);
    if (raw) s = JSON.parse(raw) as OperatorSession;
  } catch {
    s = null;
  }
  if (!s || Date.parse(s.expiresAt) <= Date.now()) return null;
  return s;
}

export function saveOperatorSession(s: OperatorSession | null): void {
  operatorMemory = s;
  const storage = tabStorage();
  if (!storage) return;
  if (s) storage.setItem(OPERATOR_KEY, JSON.stringify(s));
  else storage.removeItem(OPERATOR_KEY);
}

/** Exchanges the operator token for a console session: the token is sent once, in this request, and kept nowhere. */
export function signInAsOperator(token: string): Promise<OperatorSession> {
  return unwrap(hookgate(token).POST("/admin/dashboard-sessions"), token);
}

/** Signs in as the member of staff Cloudflare Access let through (its edge adds the identity; no token is sent). */
export function signInThroughAccess(): Promise<OperatorSession> {
  return unwrap(hookgate(null).POST("/admin/dashboard-sessions"), null);
}

export async function endOperatorSession(s: OperatorSession): Promise<void> {
  await unwrap(hookgate(s.token).DELETE("/admin/dashboard-sessions/current"), s.token);
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
