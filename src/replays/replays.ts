import type { TenantOp } from "../auth/caller";
import { BUCKET_MS, retentionDaysOf } from "../data/shard-map";
import { auditStatement } from "../db/audit";
import { createDb } from "../db/client";
import type { Cursor, Page } from "../db/cursor";
import type { ReplayableStatus } from "../db/schema";
import { newId } from "../lib/crypto";
import { ConflictError, NotFoundError, ValidationError } from "../lib/errors";
import { replayLaneFor } from "../objects";
import { ownedAction } from "../tenants/operator";
import { findWebhook } from "../webhooks/webhooks";
import { matchDeliveries } from "./match";
import { cancelIfRunning, cancelledAt, getReplay, insertReplay, listReplays, type ReplayRow, saveReplay } from "./store";

/** At most this many deliveries per replay: a wider range is refused (narrow it, or run several replays in turn). */
export const REPLAY_MAX = 10_000;

export type ReplayInput = {
  webhookId: string;
  since: Date;
  until?: Date;
  statuses: ReplayableStatus[];
  eventTypes?: string[];
  dryRun: boolean;
};

/** Rules a schema cannot state: a range in order, within retention, not in the future. */
function checkRange(op: TenantOp, input: ReplayInput, now: number): void {
  const days = retentionDaysOf(op.mode, op.config.eventRetentionDays);
  if (input.since.getTime() > now) throw new ValidationError([{ path: "since", message: "must not be in the future" }]);
  // A day's grace past the horizon: retention drops whole days, so the oldest day may still be there.
  if (input.since.getTime() < now - (days + 1) * BUCKET_MS) {
    throw new ValidationError([{ path: "since", message: `must be within the last ${days} days (older deliveries are no longer kept)` }]);
  }
  if (input.until && input.until.getTime() <= input.since.getTime()) {
    throw new ValidationError([{ path: "until", message: "must be after since" }]);
  }
}

/**
 * A bulk replay of one endpoint's deliveries: a dry run counts them; else
 * the endpoint's lane takes them (one running replay per endpoint) and
 * gives each one more attempt, oldest first. A disabled endpoint is
 * refused, as a manual retry is (enable it first); a deleted one is a 404.
 */
export async function startReplay(
  op: TenantOp,
  input: ReplayInput,
): Promise<{ dryRun: true; matched: number } | { dryRun: false; replay: ReplayRow }> {
  const now = Date.now();
  checkRange(op, input, now);
  const webhook = await findWebhook(op, input.webhookId);
  const filter = {
    webhookId: webhook.id,
    owner: op.tenant.id,
    statuses: [...new Set(input.statuses)],
    ...(input.eventTypes && input.eventTypes.length > 0 && { eventTypes: [...new Set(input.eventTypes)] }),
    since: input.since.getTime(),
    ...(input.until && { until: input.until.getTime() }),
  };
  if (input.dryRun) return { dryRun: true, matched: (await matchDeliveries(op, filter, 0)).matched };
  if (!webhook.isEnabled) throw new ConflictError("conflict", "The subscription is disabled; enable it first");
  const lane = replayLaneFor(op.env, webhook.id);
  const running = await lane.runningId();
  if (running) throw new ConflictError("replay_running", `Replay ${running} of this endpoint is still running`, { replayId: running });
  const found = await matchDeliveries(op, filter, REPLAY_MAX);
  if (found.matched > REPLAY_MAX) {
    throw new ValidationError([
      { path: "since", message: `matches ${found.matched} deliveries, more than ${REPLAY_MAX} in one replay: narrow the range` },
    ]);
  }
  const id = newId("rpl");
  const started = await lane.start(
    {
      id,
      tenantId: op.tenant.id,
      mode: op.mode,
      webhookId: webhook.id,
      state: "running",
      statuses: filter.statuses,
      eventTypes: filter.eventTypes ?? null,
      since: input.since,
      until: input.until ?? null,
      matched: found.matched,
      createdBy: op.who.actor,
      createdAt: new Date(now),
      finishedAt: null,
    },
    found.rows,
  );
  if (!started.ok) {
    throw new ConflictError("replay_running", `Replay ${started.runningId} of this endpoint is still running`, {
      replayId: started.runningId,
    });
  }
  const db = createDb(op.env.DB);
  await db.batch([
    insertReplay(db, started.replay),
    auditStatement(db, op.who, {
      action: ownedAction(op.tenant.id, "replay.started"),
      target: id,
      details: { webhookId: webhook.id, matched: found.matched, statuses: filter.statuses },
    }),
  ]);
  return { dryRun: false, replay: started.replay };
}

/** A running replay's row with its lane's live counts (a finished one's row is final). */
async function live(op: Pick<TenantOp, "env">, row: ReplayRow): Promise<ReplayRow> {
  if (row.state !== "running") return row;
  return (await replayLaneFor(op.env, row.webhookId).progress(row.id)) ?? row;
}

/** A replay of the caller's mode, or 404 (another tenant's or another mode's id too). */
export async function findReplay(op: Pick<TenantOp, "env" | "tenant" | "mode">, id: string): Promise<ReplayRow> {
  const row = await getReplay(createDb(op.env.DB), op.tenant.id, op.mode, id);
  if (!row) throw new NotFoundError("Replay");
  return live(op, row);
}

/** The owner's replays of the caller's mode, newest first (of one endpoint with `webhookId`). */
export async function listOwnReplays(
  op: Pick<TenantOp, "env" | "tenant" | "mode">,
  limit: number,
  f: { webhookId?: string; after?: Cursor },
): Promise<Page<ReplayRow>> {
  const page = await listReplays(createDb(op.env.DB), op.tenant.id, op.mode, limit, f);
  return { ...page, rows: await Promise.all(page.rows.map((r) => live(op, r))) };
}

/** Stops what the replay has not sent yet (attempts in flight finish and are counted); 409 once it is done or cancelled. */
export async function cancelReplay(op: TenantOp, id: string): Promise<ReplayRow> {
  const row = await findReplay(op, id);
  if (row.state !== "running") throw new ConflictError("conflict", `This replay is already ${row.state}`, { state: row.state });
  const answer = await replayLaneFor(op.env, row.webhookId).cancel(id);
  if (answer.kind === "finished") {
    throw new ConflictError("conflict", `This replay is already ${answer.replay.state}`, { state: answer.replay.state });
  }
  const db = createDb(op.env.DB);
  const audit = (r: ReplayRow) => ({
    action: ownedAction(op.tenant.id, "replay.cancelled"),
    target: id,
    details: { webhookId: row.webhookId, sent: r.sent, matched: r.matched },
  });
  if (answer.kind === "cancelled") {
    // The lane's record as it stopped; the lane goes on writing the row as its in-flight attempts finish,
    // and a save never moves a row back, so whichever write lands last the row keeps the lane's latest counts.
    await db.batch([saveReplay(db, answer.replay), auditStatement(db, op.who, audit(answer.replay))]);
    return answer.replay;
  }
  // The lane no longer holds it: either it finished since the row was read (its final row is in D1 now, and
  // stands), or it never held it, and the row alone says it is over.
  const finishedAt = new Date();
  const [ended] = await db.batch([
    cancelIfRunning(db, op.tenant.id, id, finishedAt),
    auditStatement(db, op.who, audit(row), cancelledAt(id, finishedAt)),
  ]);
  const cancelled = ended[0];
  if (cancelled) return cancelled;
  const now = await getReplay(db, op.tenant.id, op.mode, id);
  if (!now) throw new NotFoundError("Replay");
  throw new ConflictError("conflict", `This replay is already ${now.state}`, { state: now.state });
}
