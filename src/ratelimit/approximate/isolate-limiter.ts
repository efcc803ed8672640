import type { Mode } from "../../common/enums";
import type { Background } from "../../lib/refresh-ahead";
import { credentialGate } from "../../objects";
import { type Bucket, type GateResult, type Refusal, tatKey } from "../gate-types";
import { gcra, type Tat, type Window } from "../gcra";
import { type CredentialPolicy, evaluatePolicy } from "../policy";
import { charge, type Spend } from "./spend";

/**
 * The approximate limit mode: the isolate decides alone, from a copy of the
 * credential's live state and of each bucket's arrival time, and
 * reconciles with the credential's object in the background (reporting what
 * it admitted, learning what other isolates spent and whether the credential
 * was revoked). Only a credential the isolate has not reconciled within
 * MAX_STALENESS_MS waits for the object; a warm one never does.
 *
 * On one isolate the decisions are the object's own (the same GCRA from the
 * same arrival times), so a window admits the limit; several isolates each
 * admit from the same copy between two reconciliations, and the object then
 * records everything they admitted, so later windows pay back the excess.
 */

/** The live state a decision uses is never older than this (revocation takes effect within it). */
export const MAX_STALENESS_MS = 2_000;
/** A request starts a background reconciliation once the last one started this long ago. */
export const RECONCILE_EVERY_MS = 500;
const MAX_CREDENTIALS = 10_000;

type LocalBucket = {
  window: Window;
  /** The arrival time as this isolate sees it: the object's, plus what it admitted since. */
  tat: Tat | undefined;
  /** Admitted here, not yet reported. */
  unsentCost: number;
  unsentRequests: number;
  /** Refused here for the limit, not yet reported. */
  unsentRefused: number;
  /** Reported in a reconciliation still on its way. */
  inflightCost: number;
};

type Entry = {
  /** The object's live state; `null`: it knows no such credential. */
  policy: CredentialPolicy | null;
  /** When the reconciliation whose answer is held was sent: the state is at least this fresh. */
  syncedAt: number;
  lastStartedAt: number;
  running: number;
  /** Every bucket's arrival time in the object, as last answered. */
  remote: Record<string, Tat>;
  buckets: Map<string, LocalBucket>;
};

const entries = new Map<string, Entry>();

export type ApproximateRequest = {
  credentialId: string;
  /** The caller's copy of the live state (from D1), used only while the object has none. */
  policy: CredentialPolicy | null;
  bucket: Bucket;
  /** As in `GateRequest`: test mode spends its own buckets. */
  mode?: Mode;
  window: Window;
  cost: number;
  refusal: Refusal | null;
  ip: string | null;
};

/**
 * One decision, in the same order of checks as the object's (revoked,
 * expired, IP, then the caller's refusal, then the rate limit); only an
 * admitted request spends `cost`.
 */
export async function decideApproximately(env: Env, req: ApproximateRequest, background: Background): Promise<GateResult> {
  let entry = entries.get(req.credentialId);
  if (!entry || Date.now() - entry.syncedAt > MAX_STALENESS_MS) {
    entry ??= remember(req.credentialId);
    await reconcile(env, req.credentialId, req.policy, entry);
  } else if (entry.running === 0 && Date.now() - entry.lastStartedAt >= RECONCILE_EVERY_MS) {
    background(reconcile(env, req.credentialId, req.policy, entry).catch(() => {}));
  }
  return decide(entry, req, Date.now());
}

function decide(entry: Entry, req: ApproximateRequest, now: number): GateResult {
  const none = { limit: req.window.limit, remaining: 0, slotSeconds: 0, fullResetSeconds: 0 };
  if (!entry.policy) return { verdict: "unknown", ...none };
  const verdict = evaluatePolicy(entry.policy, now, req.ip);
  if (verdict !== "ok") return { verdict, ...none };
  if (req.refusal) return { verdict: req.refusal, ...none };
  const key = tatKey(req.bucket, req.window, req.mode);
  let bucket = entry.buckets.get(key);
  if (!bucket) {
    bucket = { window: req.window, tat: entry.remote[key], unsentCost: 0, unsentRequests: 0, unsentRefused: 0, inflightCost: 0 };
    entry.buckets.set(key, bucket);
  }
  const decision = gcra(bucket.tat, now, req.window, req.cost);
  const result = {
    limit: req.window.limit,
    remaining: decision.remaining,
    slotSeconds: decision.slotSeconds,
    fullResetSeconds: decision.fullResetSeconds,
  };
  if (!decision.allowed) {
    bucket.unsentRefused += 1;
    return { verdict: "rate_limited", ...result };
  }
  bucket.tat = decision.tat;
  bucket.unsentCost += req.cost;
  bucket.unsentRequests += 1;
  return { verdict: "ok", ...result };
}

/**
 * Reports what this isolate admitted since the last call and takes the
 * object's answer: the live state, and each bucket's arrival time plus what
 * was admitted here while the call was on its way. A failed call keeps its
 * spends for the next one.
 */
async function reconcile(env: Env, credentialId: string, policy: CredentialPolicy | null, entry: Entry): Promise<void> {
  const sentAt = Date.now();
  entry.lastStartedAt = sentAt;
  entry.running++;
  const sent: { bucket: LocalBucket; spend: Spend }[] = [];
  for (const [key, bucket] of entry.buckets) {
    if (bucket.unsentCost === 0 && bucket.unsentRefused === 0) continue;
    const { unsentCost: cost, unsentRequests: requests, unsentRefused: refused } = bucket;
    sent.push({ bucket, spend: { key, window: bucket.window, cost, requests, refused } });
    bucket.inflightCost += cost;
    bucket.unsentCost = 0;
    bucket.unsentRequests = 0;
    bucket.unsentRefused = 0;
  }
  try {
    const answer = await credentialGate(env, credentialId).reconcile({ credentialId, policy, spends: sent.map((s) => s.spend) });
    for (const { bucket, spend } of sent) bucket.inflightCost -= spend.cost;
    // An answer older than the one held (two calls crossed) would turn the state back.
    if (sentAt < entry.syncedAt) return;
    entry.syncedAt = sentAt;
    entry.policy = answer.policy;
    // RPC types widen the [ms, frac] tuples to arrays; the object stores tuples.
    entry.remote = answer.tats as Record<string, Tat>;
    const now = Date.now();
    for (const [key, bucket] of entry.buckets) {
      const pending = bucket.unsentCost + bucket.inflightCost;
      const tat = entry.remote[key];
      bucket.tat = pending > 0 ? charge(tat, now, bucket.window, pending) : tat;
    }
  } catch (err) {
    for (const { bucket, spend } of sent) {
      bucket.inflightCost -= spend.cost;
      bucket.unsentCost += spend.cost;
      bucket.unsentRequests += spend.requests;
      bucket.unsentRefused += spend.refused ?? 0;
    }
    throw err;
  } finally {
    entry.running--;
  }
}

function remember(credentialId: string): Entry {
  if (entries.size >= MAX_CREDENTIALS) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
  const entry: Entry = { policy: null, syncedAt: Number.NEGATIVE_INFINITY, lastStartedAt: 0, running: 0, remote: {}, buckets: new Map() };
  entries.set(credentialId, entry);
  return entry;
}
