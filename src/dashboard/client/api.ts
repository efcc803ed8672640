/**
 * The page's client of the public /v1 API: `hookgate/client` (typed from the OpenAPI document the
 * Worker serves), with the session's bearer token on every call and problem+json turned into
 * `ApiError`.
 */
import { createHookgateClient, type HookgateClient, type Schema } from "../../tools/client/index";

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

/** The client for one call: `token` (the session's by default; null: no credential at all). */
export function hookgate(token: string | null = bearer): HookgateClient {
  const client = createHookgateClient({
    baseUrl: location.origin,
    // One bearer token for both halves: a tenant's session on /v1, an operator console session on /admin.
    ...(token && { apiKey: token, adminToken: token }),
    fetch: async (request) => {
      try {
        // No cookie ever goes to /v1 (the page works with third-party cookies blocked). /admin may sit
        // behind Cloudflare Access, whose edge lets a request through on its own CF_Authorization cookie.
        const admin = new URL(request.url).pathname.startsWith("/admin/");
        return await fetch(request, { credentials: admin ? "same-origin" : "omit" });
      } catch {
        throw new ApiError({ status: 0, code: "network_error", detail: "The server could not be reached" });
      }
    },
  });
  return client;
}

type Result<D> = { data?: D; error?: unknown; response: Response };

/** The body of a successful call (null when it has none), or an `ApiError` with the problem. */
export async function unwrap<D>(call: Promise<Result<D>>, token: string | null = bearer): Promise<D> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const p = (typeof error === "object" && error !== null ? error : {}) as Partial<Problem>;
    const problem: Problem = {
      ...p,
      status: response.status,
      code: p.code ?? "error",
      detail: p.detail ?? `${response.status} ${response.statusText}`,
    };
    if (response.status === 401 && token && token === bearer) onSessionEnded(problem.detail);
    throw new ApiError(problem);
  }
  return (data ?? null) as D;
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

// ---- The shapes the page reads: the OpenAPI document's ----

export type ApiKey = Schema<"ApiKey">;
export type NewApiKey = ApiKey & { key: string };
export type Webhook = Schema<"Webhook">;
export type WebhookStats = Schema<"WebhookStats">;
export type SeriesPoint = WebhookStats["series"][number];
export type TestResult = Schema<"TestSendResult">;
export type Delivery = Schema<"Delivery">;
export type Attempt = Schema<"DeliveryAttempt">;
export type EventType = Schema<"EventType">;
export type Source = Schema<"Source">;
export type NewSource = Source & { url: string };
export type SourceRequest = Schema<"SourceRequest">;
export type AuditEntry = Schema<"AuditEntry">;
export type Session = Schema<"DashboardSession">;
export type CreateKey = Schema<"CreateApiKey">;
export type OAuthClient = Schema<"OAuthClient">;
export type CreateOAuthClient = Schema<"CreateOAuthClient">;
export type UpdateWebhook = Schema<"UpdateWebhook">;
export type VerifyEndpoint = Schema<"VerifyEndpoint">;
export type CreateWebhook = Schema<"CreateWebhook">;
export type CreateSource = Schema<"CreateSource">;
export type OperatorSession = Schema<"OperatorSession">;
export type Tenant = Schema<"Tenant">;
export type CreateTenant = Schema<"CreateTenant">;
export type UpdateTenant = Schema<"UpdateTenant">;
export type TenantApiKey = Schema<"TenantApiKey">;
export type LockCredential = Schema<"LockCredential">;
export type Gateway = Schema<"Gateway">;
export type PutGateway = Schema<"PutGateway">;
