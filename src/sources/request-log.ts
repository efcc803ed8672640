import type { TenantOp } from "../auth/caller";
import type { Config } from "../config";
import { dataTenantOf } from "../data/owners";
import { type DataTenant, placeLoose } from "../data/placement";
import { bucketsBefore, newestFirst } from "../data/reads";
import type { SourceRequestRecord } from "../data/records";
import { locatedId, retentionDaysOf } from "../data/shard-map";
import type { Cursor, Page } from "../db/cursor";
import type { SourceRejection, SourceRequestStatus, SourceVerification } from "../db/schema";
import type { RequestLogDraft } from "../events/publish";
import type { ErrorCode } from "../lib/errors";
import { shardStub } from "../objects";
import { findSource } from "./sources";

/** The log keeps at most this much of each body. */
export const LOGGED_BODY_BYTES = 64 * 1024;

const SIGNATURE_OR_SECRET = /authorization|cookie|signature|hmac|secret|token|password|api[-_]?key/i;

/** Headers as the log shows them: signatures, credentials and the source's own secret header redacted. */
export function redactIntakeHeaders(headers: Headers, verification: SourceVerification | null): Record<string, string> {
  const own = verification?.header?.toLowerCase();
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name] = name === own || SIGNATURE_OR_SECRET.test(name) ? "[redacted]" : value;
  return out;
}

/** The query as the log shows it: a parameter named like a secret (Meta's `hub.verify_token`) redacted. */
export function redactIntakeQuery(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of params) out[name] = SIGNATURE_OR_SECRET.test(name) ? "[redacted]" : value;
  return out;
}

/** The request-log reason for an error the intake answered with. */
export function rejectionOf(code: ErrorCode): SourceRejection | null {
  const byCode: Partial<Record<ErrorCode, SourceRejection>> = {
    payload_too_large: "too_large",
    unsupported_media_type: "unsupported_media_type",
    bad_request: "bad_body",
    malformed_json: "bad_body",
    too_deep: "bad_body",
    unknown_event_type: "unknown_event_type",
    schema_mismatch: "schema_mismatch",
    rate_limited: "rate_limited",
  };
  return byCode[code] ?? null;
}

export type LoggedRequest = {
  tenantId: string;
  sourceId: string;
  receivedAt: Date;
  method: string;
  url: URL;
  headers: Headers;
  verification: SourceVerification | null;
  ip: string | null;
  bytes: Uint8Array;
};

/** What the log keeps of a request (its status, event and id are set where it is stored). */
export function requestLogDraft(req: LoggedRequest, outcome: { verified: boolean; responseStatus: number }): RequestLogDraft {
  const truncated = req.bytes.length > LOGGED_BODY_BYTES;
  return {
    tenantId: req.tenantId,
    sourceId: req.sourceId,
    receivedAt: req.receivedAt,
    ip: req.ip,
    method: req.method,
    query: redactIntakeQuery(req.url.searchParams),
    headers: redactIntakeHeaders(req.headers, req.verification),
    contentType: req.headers.get("content-type"),
    // A cut may split a character; the stream flag drops it rather than print a replacement.
    body: new TextDecoder().decode(truncated ? req.bytes.subarray(0, LOGGED_BODY_BYTES) : req.bytes, { stream: truncated }),
    bodyTruncated: truncated,
    ...outcome,
  };
}

/** Logs a request that published nothing (rejected, or a handshake) in one of the tenant's shards of today. */
export async function logRequest(
  env: Env,
  config: Config,
  tenant: DataTenant,
  draft: RequestLogDraft,
  outcome: { status: SourceRequestStatus; rejection: SourceRejection | null },
): Promise<void> {
  const place = placeLoose(tenant, draft.receivedAt.getTime());
  const row: SourceRequestRecord = { ...draft, ...outcome, id: locatedId("req", place), eventId: null };
  await shardStub(env, place.name).logSourceRequest(tenant.id, place.bucket, retentionDaysOf(tenant.mode, config.eventRetentionDays), row);
}

/** A source's request log, newest first, across the tenant's shards; 404 for a source the tenant does not have. */
export async function listRequestLog(
  op: Pick<TenantOp, "env" | "config" | "tenant" | "mode">,
  sourceId: string,
  limit: number,
  status: SourceRequestStatus | undefined,
  after?: Cursor,
): Promise<Page<SourceRequestRecord>> {
  await findSource(op, sourceId);
  return newestFirst({
    tenants: [dataTenantOf(op.tenant, op.mode)],
    buckets: bucketsBefore(Date.now(), retentionDaysOf(op.mode, op.config.eventRetentionDays), {}, after),
    limit,
    fetch: (name, need) => shardStub(op.env, name).listSourceRequests(sourceId, status, after ?? null, need),
    position: (r) => ({ t: r.receivedAt.getTime(), id: r.id }),
  });
}
