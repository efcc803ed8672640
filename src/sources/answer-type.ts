/**
 * The media types a source may answer its sender with. The answer is served
 * on Hookgate's own origin, where the dashboard keeps its session, so a
 * tenant's text must be something a browser never runs: JSON or plain text,
 * with an optional charset, nothing else (no HTML, SVG, XML or script).
 */
export const ANSWER_TYPES = ["application/json", "text/plain"] as const;

const SAFE_ANSWER_TYPE = /^(application\/json|text\/plain)(\s*;\s*charset=("?)[A-Za-z0-9._-]{1,40}\3)?$/i;

/** The type a stored answer is served with when it has none, or one no longer accepted. */
export const FALLBACK_ANSWER_TYPE = "text/plain; charset=utf-8";

export const isSafeAnswerType = (type: string): boolean => SAFE_ANSWER_TYPE.test(type);

/**
 * The Content-Type a source's answer is served with: its own when it is
 * one of the accepted types, else plain text. A source saved before the
 * types were restricted keeps its body but can never become a page.
 */
export const servedAnswerType = (type: string | null | undefined): string => (type && isSafeAnswerType(type) ? type : FALLBACK_ANSWER_TYPE);

/**
 * The headers of every answer under `/in/`: whatever it holds renders in a
 * sandbox (an opaque origin, no script, no storage, no cookies) and loads
 * nothing, even if a browser is sent there.
 */
export const INTAKE_CSP = "sandbox; default-src 'none'";
