import type { AttemptError, DeliveryStatus, SourceRejection, SourceRequestStatus } from "../db/schema";

/**
 * The data plane's rows, as its objects hand them out (times as Dates: RPC
 * carries them). They live in a tenant's shard objects, never in D1.
 */
export type EventRecord = {
  id: string;
  tenantId: string;
  type: string;
  /** The payload, as JSON text: stored once, however many deliveries and attempts refer to it. */
  data: string;
  sourceId: string | null;
  createdAt: Date;
  /** Commit order within its shard. */
  seq: number;
  /** Deliveries to an ordered subscription go one at a time per key (null: the no-key line). */
  orderingKey?: string | null;
  /** The payload version of its type it was published at (null: the type had none). */
  version?: string | null;
};

export type DeliveryRecord = {
  id: string;
  /** Whose delivery it is: the event's tenant, or the operator for an operator endpoint. */
  tenantId: string;
  /** The tenant whose event it carries (and whose shard holds it). */
  eventTenantId: string;
  eventId: string;
  eventType: string;
  webhookId: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due, or (while one is in flight) when its lease ends. */
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastDurationMs: number | null;
  createdAt: Date;
  updatedAt: Date;
};

/** How the body of an attempt was built from its event, so the log can show it without a copy of the payload. */
export type BodyShape = {
  format: "json" | "form";
  customFields: Record<string, string | number | boolean> | null;
  tenantId?: string;
  /** The payload version sent, when the event's data went out as published (a converted body is kept whole instead). */
  version?: string;
};

export type AttemptRecord = {
  id: string;
  tenantId: string;
  /** Null for a test send, which belongs to no delivery. */
  deliveryId: string | null;
  webhookId: string;
  attempt: number;
  at: Date;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: AttemptError | null;
  requestHeaders: Record<string, string>;
  /** The body as sent: rebuilt from the event and `bodyShape`, or kept as is for a test send. */
  requestBody: string;
  isTest: boolean;
};

/** An attempt as stored: a delivery's body is its event's payload plus a shape, a test send's is kept whole. */
export type AttemptInsert = Omit<AttemptRecord, "requestBody"> & { bodyShape: BodyShape | null; requestBody: string | null };

export type SourceRequestRecord = {
  id: string;
  tenantId: string;
  sourceId: string;
  receivedAt: Date;
  status: SourceRequestStatus;
  rejection: SourceRejection | null;
  verified: boolean;
  eventId: string | null;
  ip: string | null;
  method: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  contentType: string | null;
  body: string;
  bodyTruncated: boolean;
  responseStatus: number;
};

/** An idempotency claim: a key names its first event for 24 h. */
export type ClaimRecord = { key: string; requestHash: string; eventId: string; createdAt: Date };

export type DeliveryFilter = {
  owner: string;
  webhookId?: string;
  eventId?: string;
  eventType?: string;
  status?: DeliveryStatus;
  since?: Date;
  until?: Date;
};

/** A position in a newest-first list: strictly before this (time, id). */
export type Before = { t: number; id: string };

/** One publish into a shard: the rows of one transaction. */
export type ShardPublish = {
  tenantId: string;
  bucket: number;
  retentionDays: number;
  event: EventRecord;
  deliveries: DeliveryRecord[];
  /**
   * An idempotency claim. `elsewhere` names the other objects that may hold
   * the key's first answer: yesterday's bucket, and the key's shard under a
   * shard count changed within the claim window.
   */
  claim?: { key: string; requestHash: string; keyIdentifiesDelivery: boolean; elsewhere: string[] };
  /** A source's request-log row, written in the same transaction (as a duplicate when the claim was already held). */
  sourceRequest?: SourceRequestRecord;
};

export type ShardPublishResult =
  | { kind: "stored" }
  | { kind: "replayed"; event: EventRecord; deliveries: DeliveryRecord[] }
  | { kind: "reused" };
