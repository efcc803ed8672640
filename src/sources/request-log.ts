import type { Db } from "../db/client";
import type { SourceRejection, SourceRequestStatus, SourceVerification } from "../db/schema";
import { insertSourceRequest } from "../db/source-requests";
import { newId } from "../lib/crypto";
import type { ErrorCode } from "../lib/errors";

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

export function logStatement(
  db: Db,
  req: LoggedRequest,
  outcome: {
    status: SourceRequestStatus;
    rejection: SourceRejection | null;
    verified: boolean;
    eventId: string | null;
    responseStatus: number;
  },
) {
  const truncated = req.bytes.length > LOGGED_BODY_BYTES;
  return insertSourceRequest(db, {
    id: newId("req"),
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
  });
}
