/**
 * `hookgate/client`: a typed client for Hookgate's HTTP API (`/v1`, `/admin`, `/oauth`, `/in`).
 * The types are generated from the Worker's `/openapi.json` (./schema.d.ts); the runtime is
 * openapi-fetch, so every call is `client.GET(path, { params, body })` with the path, parameters,
 * body and responses checked against the API's own schemas.
 *
 * Runs wherever `fetch` does: Node ≥ 20, Workers, browsers. Nothing here imports a Node module.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** The client `createHookgateClient` returns: openapi-fetch's, typed with Hookgate's paths. */
export type HookgateClient = Client<paths>;

/** Every error response's body (RFC 9457 problem details with Hookgate's `code`). */
export type Problem = components["schemas"]["Problem"];

/** A named schema of the API, e.g. `Schema<"Webhook">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

export interface HookgateClientOptions {
  /** The deployment's URL, e.g. `https://hookgate.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** A tenant's API key (`hg_…`) or OAuth2 access token: sent as `Authorization: Bearer` on `/v1/*`. */
  apiKey?: string;
  /** The operator's `ADMIN_TOKEN`: sent as `Authorization: Bearer` on `/admin/*`, and nowhere else. */
  adminToken?: string;
  /** The fetch to call (a service binding's, a test double); `globalThis.fetch` by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent on every request (an `Authorization` set here or per call is left alone). */
  headers?: Record<string, string>;
}

/**
 * A typed client for one deployment. Each request carries the credential its path needs:
 * `apiKey` on `/v1/*`, `adminToken` on `/admin/*`; other paths (`/oauth/token`, `/in/…`) get
 * neither. An `Authorization` header given in the options' `headers` or on a call wins.
 *
 * ```ts
 * const hookgate = createHookgateClient({ baseUrl: "https://hookgate.example.com", apiKey: process.env.HOOKGATE_API_KEY });
 * const { data, error } = await hookgate.POST("/v1/events", { body: { type: "invoice.paid", data: { amount: 42 } } });
 * ```
 */
export function createHookgateClient(options: HookgateClientOptions): HookgateClient {
  if (typeof options?.baseUrl !== "string" || options.baseUrl === "") {
    throw new TypeError("createHookgateClient needs a baseUrl, e.g. https://hookgate.example.com");
  }
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.headers && { headers: options.headers }),
  });
  client.use(credentials(options));
  return client;
}

function credentials(options: HookgateClientOptions): Middleware {
  return {
    onRequest({ request, schemaPath }) {
      const token = credentialFor(schemaPath, options);
      if (token === undefined || request.headers.has("authorization")) return undefined;
      request.headers.set("authorization", `Bearer ${token}`);
      return request;
    },
  };
}

function credentialFor(path: string, options: HookgateClientOptions): string | undefined {
  if (path === "/admin" || path.startsWith("/admin/")) return options.adminToken;
  if (path === "/v1" || path.startsWith("/v1/")) return options.apiKey;
  return undefined;
}
