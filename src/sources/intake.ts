import type { Config } from "../config";
import { dataTenantOf } from "../data/owners";
import type { SourceRow } from "../db/sources";
import type { TenantRow } from "../db/tenants";
import type { DispatchRuntime } from "../delivery/engine/dispatch";
import { publishEvent, type RequestLogDraft } from "../events/publish";
import { sha256Hex } from "../lib/crypto";
import { DomainError, ForbiddenError, STATUS_OF_KIND, ValidationError } from "../lib/errors";
import { valueTooDeep } from "../lib/json";
import { decryptSecret } from "../lib/secret-box";
import { credentialGate } from "../objects";
import { RateLimitedError } from "../ratelimit/limits";
import { cachedTenant } from "../tenants/cache";
import { servedAnswerType } from "./answer-type";
import { type ParsedBody, parseIntakeBody, readIntakeBody } from "./body";
import { renderMapping, renderString, type TemplateContext } from "./mapping";
import { type LoggedRequest, logRequest, rejectionOf, requestLogDraft } from "./request-log";
import { safeEqual, type VerificationSecrets, verifySignature } from "./signatures";
import { cachedSource } from "./source-cache";

export type IntakeRequest = {
  sourceId: string;
  token: string;
  method: string;
  url: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  ip: string | null;
};

/** What the sender gets back. */
export type IntakeAnswer = { status: number; body: string; contentType: string };

// Compared against when the id names no source, so an unknown id costs what a wrong token does.
const NO_SOURCE_HASH = "0".repeat(64);

/**
 * One request to a source URL: the token (the only credential), the
 * source's rate limit, the body, the sender's signature, handshakes, the
 * mapping, deduplication, then the same publish as `POST /v1/events`. Every
 * request that reached a known source is logged with its outcome.
 */
export async function receive(env: Env, config: Config, req: IntakeRequest, runtime: DispatchRuntime): Promise<IntakeAnswer> {
  const { source, tenant } = await admitSource(env, req);
  const log: LoggedRequest = {
    tenantId: source.tenantId,
    sourceId: source.id,
    receivedAt: new Date(),
    method: req.method,
    url: new URL(req.url),
    headers: req.headers,
    verification: source.verification,
    ip: req.ip,
    bytes: new Uint8Array(0),
  };
  let verified = false;
  try {
    await spendRateLimit(env, source);
    // HEAD is answered as GET is (the router sends it to the GET route).
    if (req.method === "GET" || req.method === "HEAD") return await metaHandshake(config, source, log);
    log.bytes = await readIntakeBody(req.body, req.headers.get("content-length") ?? undefined);
    const body = parseIntakeBody(log.bytes, req.headers.get("content-type"));
    await assertSigned(config, source, req, body);
    verified = true;
    const handshake = slackHandshake(source, body);
    if (handshake) {
      await logRequest(env, config, dataTenantOf(tenant, source.mode), requestLogDraft(log, { verified, responseStatus: 200 }), {
        status: "accepted",
        rejection: null,
      });
      return handshake;
    }
    const ctx = { trigger: body.trigger, headers: req.headers, query: log.url.searchParams };
    // Logged with the event, in the same transaction: accepted, or a duplicate of the first.
    const draft = requestLogDraft(log, { verified, responseStatus: answerStatus(source) });
    const { eventId } = await mapAndPublish(env, config, tenant, source, ctx, runtime, draft);
    return answerOf(source, eventId);
  } catch (err) {
    if (err instanceof DomainError) {
      const rejection = err.code === "invalid_signature" || err.code === "stale_timestamp" ? err.code : rejectionOf(err.code);
      await logRequest(
        env,
        config,
        dataTenantOf(tenant, source.mode),
        requestLogDraft(log, { verified, responseStatus: statusOfIntakeError(err) }),
        {
          status: "rejected",
          rejection,
        },
      );
    }
    throw err;
  }
}

/** Unknown source, wrong token, disabled or deleted source: the same 404, after the same work. */
async function admitSource(env: Env, req: IntakeRequest): Promise<{ source: SourceRow; tenant: TenantRow }> {
  const source = /^src_[0-9A-Za-z]{1,40}$/.test(req.sourceId) ? await cachedSource(env.DB, req.sourceId) : null;
  const presented = await sha256Hex(req.token);
  const current = await safeEqual(presented, source?.tokenHash ?? NO_SOURCE_HASH);
  const previous =
    source?.previousTokenHash && source.previousTokenExpiresAt && source.previousTokenExpiresAt.getTime() > Date.now()
      ? await safeEqual(presented, source.previousTokenHash)
      : await safeEqual(presented, NO_SOURCE_HASH);
  const tenant =
    source && (current || previous) && source.isEnabled && !source.deletedAt ? await cachedTenant(env.DB, source.tenantId) : undefined;
  if (!source || !tenant) throw new DomainError("not_found", "Nothing receives webhooks at this URL");
  return { source, tenant };
}

async function spendRateLimit(env: Env, source: SourceRow): Promise<void> {
  const window = { limit: source.rateLimit, windowSeconds: 60 };
  const gate = await credentialGate(env, source.id).check({
    credentialId: source.id,
    bucket: "intake",
    window,
    policy: { revokedAt: null, expiresAt: null, ipAllowlist: null },
    countUse: false,
    ip: null,
  });
  if (gate.verdict === "rate_limited") throw new RateLimitedError("intake", window, gate, "requests to this source");
}

async function secretsOf(config: Config, source: SourceRow): Promise<VerificationSecrets> {
  return source.secretEnc ? (JSON.parse(await decryptSecret(config.secretsKey, source.secretEnc, source.id)) as VerificationSecrets) : {};
}

/** No verification configured: the URL's token alone vouches for the request. */
async function assertSigned(config: Config, source: SourceRow, req: IntakeRequest, body: ParsedBody): Promise<void> {
  if (!source.verification) return;
  const verdict = await verifySignature(source.verification, await secretsOf(config, source), {
    body: body.bytes,
    headers: req.headers,
    url: req.url,
    form: body.form,
  });
  if (verdict === "invalid_signature") throw new DomainError("invalid_signature", "The request's signature is missing or does not match");
  if (verdict === "stale_timestamp") throw new DomainError("stale_timestamp", "The request's timestamp is more than 300 s away from now");
}

/** Meta's subscribe handshake (`GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=X`) answers the challenge. */
async function metaHandshake(config: Config, source: SourceRow, log: LoggedRequest): Promise<IntakeAnswer> {
  if (source.verification?.scheme !== "meta") throw new DomainError("method_not_allowed", "This source receives POST requests");
  const q = log.url.searchParams;
  const expected = (await secretsOf(config, source)).verifyToken ?? "";
  if (q.get("hub.mode") !== "subscribe" || !(await safeEqual(expected, q.get("hub.verify_token") ?? ""))) {
    throw new DomainError("invalid_signature", "The subscribe handshake's verify token does not match");
  }
  return { status: 200, body: q.get("hub.challenge") ?? "", contentType: "text/plain; charset=utf-8" };
}

/** Slack's `url_verification` (answered with its challenge) and `ssl_check`: no event is published. */
function slackHandshake(source: SourceRow, body: ParsedBody): IntakeAnswer | null {
  if (source.verification?.scheme !== "slack") return null;
  const t = body.trigger as Record<string, unknown> | null;
  if (t && typeof t === "object" && t.type === "url_verification") {
    return { status: 200, body: JSON.stringify({ challenge: t.challenge ?? null }), contentType: "application/json" };
  }
  if (t && typeof t === "object" && t.ssl_check === "1") return { status: 200, body: "", contentType: "text/plain; charset=utf-8" };
  return null;
}

/** The sender's own delivery id, per scheme, or the one the source is told to use. */
export function dedupeId(source: SourceRow, ctx: TemplateContext): string | null {
  const d = source.dedupe;
  if (d && "header" in d) return ctx.headers.get(d.header);
  if (d && "path" in d) {
    const v = renderString(`{{trigger.${d.path}}}`, ctx);
    return v === null || v === undefined ? null : String(v);
  }
  const t = ctx.trigger as Record<string, unknown> | null;
  const fromBody = (key: string) => (t && typeof t === "object" && typeof t[key] === "string" ? (t[key] as string) : null);
  switch (source.verification?.scheme) {
    case "github":
      return ctx.headers.get("x-github-delivery");
    case "shopify":
      return ctx.headers.get("x-shopify-webhook-id");
    case "standard-webhooks":
      return ctx.headers.get("webhook-id") ?? ctx.headers.get("svix-id");
    case "stripe":
      return fromBody("id");
    case "slack":
      return fromBody("event_id");
    default:
      return null;
  }
}

/**
 * The mapped event, published as the tenant would publish it, in the
 * source's mode (a test source's requests make test events). A sender's
 * delivery id becomes the idempotency key (its own namespace: the space
 * cannot appear in an Idempotency-Key header), so a repeat within 24 h gets
 * the first answer and publishes nothing.
 */
export async function mapAndPublish(
  env: Env,
  config: Config,
  tenant: TenantRow,
  source: SourceRow,
  ctx: TemplateContext,
  runtime: DispatchRuntime,
  requestLog?: RequestLogDraft,
): Promise<{ eventId: string; duplicate: boolean }> {
  const type = renderString(source.eventType, ctx);
  const mapped = source.mapping !== null && source.mapping !== undefined;
  const data = mapped ? renderMapping(source.mapping, ctx) : ctx.trigger;
  // The body was measured as it arrived; a mapping can nest it further.
  if (mapped && valueTooDeep(data)) throw new DomainError("too_deep", "The mapped data nests deeper than 64 levels");
  const delivery = dedupeId(source, ctx);
  const orderingKey = source.orderingKey ? await renderOrderingKey(source.orderingKey, ctx) : null;
  if (typeof type !== "string" || type === "") {
    throw new ValidationError(
      [{ path: "eventType", message: `resolved to ${JSON.stringify(type)}, not an event type` }],
      "unknown_event_type",
    );
  }
  try {
    const published = await publishEvent(
      env,
      config,
      tenant,
      {
        mode: source.mode,
        type,
        data,
        publisher: "tenant",
        sourceId: source.id,
        ...(delivery && { idempotencyKey: `source ${source.id} ${delivery}`, keyIdentifiesDelivery: true }),
        ...(requestLog && { requestLog }),
        ...(orderingKey && { orderingKey }),
      },
      runtime,
    );
    return { eventId: published.event.id, duplicate: published.replayed };
  } catch (err) {
    if (err instanceof ForbiddenError || (err instanceof ValidationError && err.errors[0]?.path === "type")) {
      throw new ValidationError([{ path: "eventType", message: `${type} is not in the event catalog` }], "unknown_event_type");
    }
    if (err instanceof ValidationError && err.code === "validation_failed") throw new ValidationError(err.errors, "schema_mismatch");
    throw err;
  }
}

/**
 * A source's orderingKey template, rendered: null or empty publishes without
 * a key; a value is taken as text, and one longer than an orderingKey may be
 * (128) stands for itself by its hash, so its events still share one line.
 */
async function renderOrderingKey(template: string, ctx: TemplateContext): Promise<string | null> {
  const value = renderString(template, ctx);
  if (value === null || value === undefined) return null;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === "") return null;
  return text.length <= 128 ? text : `sha256:${await sha256Hex(text)}`;
}

const answerStatus = (source: SourceRow) => source.response?.status ?? 202;

function answerOf(source: SourceRow, eventId: string): IntakeAnswer {
  const r = source.response;
  if (!r) return { status: 202, body: JSON.stringify({ eventId }), contentType: "application/json" };
  return { status: r.status, body: r.body ?? "", contentType: servedAnswerType(r.contentType) };
}

/** The status an error answers with, for the log (src/errors.ts sends the same). */
const statusOfIntakeError = (err: DomainError) => STATUS_OF_KIND[err.kind];
