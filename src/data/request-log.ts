import { DurableObject } from "cloudflare:workers";
import type { Mode } from "../common/enums";
import {
  insertRequestErrors,
  queryRequestErrors,
  REQUEST_LOG_SCHEMA,
  type RequestErrorQuery,
  type RequestErrorRecord,
  requestErrorById,
  type StoredRequestError,
} from "./request-log-sql";
import { BUCKET_MS, bucketStart } from "./shard-map";

type Meta = { tenantId: string; bucket: number; retentionAt: number; dropped: number };

/**
 * One tenant's request errors of one UTC day (object `<tenant>/<day>`, the
 * data plane's day buckets): the non-2xx answers its credentials got, written
 * in batches by the isolates that answered them (never one call per request).
 * What an isolate's batch had to leave out (an error flood) is counted here,
 * so a list can say how many are missing. Like a data shard, the object drops
 * everything at once when its day passes the retention horizon.
 */
export class RequestLog extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    if (this.meta) this.sql.exec(REQUEST_LOG_SCHEMA);
  }

  private get meta(): Meta | undefined {
    return this.ctx.storage.kv.get<Meta>("meta");
  }

  /** One isolate's batch for this day: its rows, and how many errors it had to drop. */
  async record(tenantId: string, bucket: number, retentionDays: number, rows: RequestErrorRecord[], dropped: number): Promise<void> {
    let meta = this.meta;
    if (!meta) {
      this.sql.exec(REQUEST_LOG_SCHEMA);
      meta = { tenantId, bucket, retentionAt: bucketStart(bucket + 1) + retentionDays * BUCKET_MS, dropped: 0 };
      await this.ctx.storage.setAlarm(meta.retentionAt);
    }
    const kept = meta;
    this.ctx.storage.transactionSync(() => {
      insertRequestErrors(this.sql, rows);
      this.ctx.storage.kv.put("meta", { ...kept, dropped: kept.dropped + dropped });
    });
  }

  /** Rows newest first, with the count of errors this day could not keep. */
  list(q: RequestErrorQuery): { rows: StoredRequestError[]; dropped: number } {
    const meta = this.meta;
    return meta ? { rows: queryRequestErrors(this.sql, q), dropped: meta.dropped } : { rows: [], dropped: 0 };
  }

  find(requestId: string, mode: Mode | null): StoredRequestError | null {
    return this.meta ? requestErrorById(this.sql, requestId, mode) : null;
  }

  /** The retention horizon: the whole day goes at once (the alarm with it). */
  override async alarm(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    if (Date.now() >= meta.retentionAt) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(meta.retentionAt);
  }
}
