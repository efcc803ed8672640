/**
 * A `hookgate listen` session's subscription has the URL `cli:<lsn_id>`: its deliveries travel
 * down the session's WebSocket instead of over HTTP. Only the listen route creates such a URL;
 * the URL guard refuses it everywhere else.
 */
export const LISTEN_SCHEME = "cli:";

const SESSION_ID = /^lsn_[A-Za-z0-9]{20}$/;

export const isSessionId = (id: string): boolean => SESSION_ID.test(id);

export const listenUrlOf = (sessionId: string): string => `${LISTEN_SCHEME}${sessionId}`;

/** The session id a `cli:` URL names, or null for any other URL. */
export function sessionOfUrl(url: string): string | null {
  if (!url.startsWith(LISTEN_SCHEME)) return null;
  const id = url.slice(LISTEN_SCHEME.length);
  return isSessionId(id) ? id : null;
}
