import type { TenantOp } from "../auth/caller";
import { objectOfId } from "../data/placement";
import type { SourceRequestRecord } from "../data/records";
import { auditStatement } from "../db/audit";
import { createDb } from "../db/client";
import type { DispatchRuntime } from "../delivery/engine/dispatch";
import { ConflictError, DomainError, NotFoundError } from "../lib/errors";
import { shardStub } from "../objects";
import { parseIntakeBody } from "./body";
import { mapAndPublish } from "./intake";
import { rejectionOf } from "./request-log";
import { findSource } from "./sources";

async function lookUpRequest(op: TenantOp, sourceId: string, requestId: string) {
  await findSource(op, sourceId);
  const object = objectOfId(op.tenant.id, requestId, "req", op.mode);
  const stub = object && shardStub(op.env, object.name);
  const row = stub ? await stub.getSourceRequest(requestId, sourceId) : null;
  if (!stub || !row) throw new NotFoundError("Request");
  return { row, stub };
}

export async function findSourceRequest(op: TenantOp, sourceId: string, requestId: string): Promise<SourceRequestRecord> {
  return (await lookUpRequest(op, sourceId, requestId)).row;
}

/**
 * Runs a logged request's mapping and publish again, with the source as it
 * is now (after its mapping or the catalog was fixed). Only a request that
 * passed verification can be replayed; its sender's delivery id still
 * deduplicates, so a replay of an accepted request answers with its event.
 */
export async function replaySourceRequest(
  op: TenantOp,
  sourceId: string,
  requestId: string,
  runtime: DispatchRuntime,
): Promise<{ eventId: string }> {
  const db = createDb(op.env.DB);
  const source = await findSource(op, sourceId);
  const { row: logged, stub } = await lookUpRequest(op, sourceId, requestId);
  if (!logged.verified) throw new ConflictError("not_verified", "This request failed verification; it cannot be replayed");
  if (logged.bodyTruncated)
    throw new ConflictError("conflict", "Only the first 64 KiB of this request's body was kept; it cannot be replayed");
  const body = parseIntakeBody(new TextEncoder().encode(logged.body), logged.contentType);
  const ctx = { trigger: body.trigger, headers: new Headers(logged.headers), query: new URLSearchParams(logged.query) };
  try {
    const { eventId, duplicate } = await mapAndPublish(op.env, op.config, op.tenant, source, ctx, runtime);
    // The request that published the event stays `accepted` when its replay meets its own delivery id.
    const first = logged.status === "accepted" && logged.eventId === eventId;
    await stub.updateSourceRequest(logged.id, {
      status: duplicate && !first ? "duplicate" : "accepted",
      rejection: null,
      eventId,
      responseStatus: 202,
    });
    await auditStatement(db, op.who, { action: "source.request_replayed", target: logged.id, details: { sourceId, eventId } }).run();
    return { eventId };
  } catch (err) {
    if (err instanceof DomainError) await stub.updateSourceRequest(logged.id, { status: "rejected", rejection: rejectionOf(err.code) });
    throw err;
  }
}
