/** The page's client of the public /v1 API: every call carries the session's bearer token. */

export type Problem = {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
  retryAfter?: number;
};

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

export type Page<T> = { data: T[]; nextCursor: string | null };

let bearer: string | null = null;
let onSessionEnded: (detail: string) => void = () => {};

/** The token every call sends from now on (null: none). */
export function setBearer(token: string | null): void {
  bearer = token;
}

/** Called when the API refuses the session (signed out elsewhere, expired, key revoked). */
export function whenSessionEnds(handler: (detail: string) => void): void {
  onSessionEnded = handler;
}

export async function api<T>(method: string, path: string, body?: unknown, token: string | null = bearer): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  } catch {
    throw new ApiError({ status: 0, code: "network_error", detail: "The server could not be reached" });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = (parsed ?? {}) as Partial<Problem>;
    const problem: Problem = { ...p, status: res.status, code: p.code ?? "error", detail: p.detail ?? `${res.status} ${res.statusText}` };
    if (res.status === 401 && token && token === bearer) onSessionEnded(problem.detail);
    throw new ApiError(problem);
  }
  return parsed as T;
}

/** A readable line for an error shown to the user. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    const fields = p.errors?.map((e) => `${e.path}: ${e.message}`).join("; ");
    if (p.status === 429) return `Too many requests: try again in ${p.retryAfter ?? "a few"} s`;
    return fields ? `${p.detail} (${fields})` : p.detail;
  }
  return err instanceof Error ? err.message : String(err);
}

/** `path` with `params` added as its query string (empty values left out). */
export function withQuery(path: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

// ---- The shapes the page reads (a subset of the OpenAPI document's) ----

export type ApiKey = {
  id: string;
  name: string;
  start: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
};
export type NewApiKey = ApiKey & { key: string };

export type Webhook = {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  isEnabled: boolean;
  disabledReason: string | null;
  managedBy?: string | null;
  secretLast4: string;
};

export type SeriesPoint = { start: string; succeeded: number; failed: number };
export type WebhookStats = { attempts24h: number; successRate24h: number | null; series: SeriesPoint[] };
export type TestResult = { success: boolean; statusCode: number | null; responseBody: string | null; durationMs: number; error?: string };

export type Delivery = {
  id: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  status: "pending" | "succeeded" | "failed" | "cancelled";
  attemptCount: number;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastDurationMs: number | null;
  createdAt: string;
};
export type Attempt = {
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
  requestHeaders: Record<string, string>;
  requestBody: string;
};

export type EventType = {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  owner?: string;
  archived: boolean;
};

export type Source = {
  id: string;
  name: string;
  eventType: string;
  verification: { scheme: string; secretLast4: string | null } | null;
  isEnabled: boolean;
  createdAt: string;
};
export type NewSource = Source & { url: string };
export type SourceRequest = {
  id: string;
  receivedAt: string;
  status: string;
  rejection: string | null;
  eventId: string | null;
  ip: string | null;
  headers: Record<string, string>;
  body: string;
  responseStatus: number;
};

export type AuditEntry = { id: string; at: string; actor: string; action: string; target: string; ip: string | null };
