import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { gcra, type Tat, type Window } from "./gcra";
import { evaluatePolicy, type CredentialPolicy, type PolicyVerdict } from "./policy";

export type Bucket = "read" | "write" | "token";

export type GateRequest = {
  credentialId: string;
  bucket: Bucket;
  window: Window;
  /**
   * The credential's policy as the caller read it (possibly from an isolate
   * cache). Once the object has been told a policy with `setPolicy`, its own
   * copy wins: that is how a revocation reaches every isolate at once.
   * `null` (OAuth tokens): only the object's copy counts.
   */
  policy: CredentialPolicy | null;
  /** Store `policy` as the object's own first (it was just read from D1, the source of truth). */
  storePolicy?: boolean;
  ip: string | null;
};

export type GateResult = {
  verdict: PolicyVerdict | "unknown" | "rate_limited";
  limit: number;
  remaining: number;
  slotSeconds: number;
  fullResetSeconds: number;
};

// Usage is written to D1 at most this often, never per request.
const FLUSH_INTERVAL_MS = 60_000;
const USAGE_DAYS_KEPT = 90;

/**
 * One object per credential (API key or OAuth client), named by its id. One
 * RPC per request answers "allowed?" for the credential's live state and its
 * rate limit together; the object also counts usage and flushes it to D1 from
 * an alarm.
 */
export class CredentialLimiter extends DurableObject<Env> {
  /** Admission decision for one request; counts it only when it is admitted. */
  check(req: GateRequest): GateResult {
    const kv = this.ctx.storage.kv;
    const now = Date.now();
    if (req.storePolicy && req.policy) this.setPolicy(req.credentialId, req.policy);
    const policy = kv.get<CredentialPolicy>("policy") ?? req.policy;
    const none = { limit: req.window.limit, remaining: 0, slotSeconds: 0, fullResetSeconds: 0 };
    if (!policy) return { verdict: "unknown", ...none };
    const verdict = evaluatePolicy(policy, now, req.ip);
    if (verdict !== "ok") return { verdict, ...none };

    const tatKey = `tat:${req.bucket}:${req.window.limit}:${req.window.windowSeconds}`;
    const decision = gcra(kv.get<Tat>(tatKey), now, req.window);
    const result = {
      limit: req.window.limit,
      remaining: decision.remaining,
      slotSeconds: decision.slotSeconds,
      fullResetSeconds: decision.fullResetSeconds,
    };
    if (!decision.allowed) return { verdict: "rate_limited", ...result };
    kv.put(tatKey, decision.tat);
    this.recordUse(req.credentialId, now);
    return { verdict: "ok", ...result };
  }

  /** Stores the credential's current policy (after create, PATCH, DELETE, rotate). */
  setPolicy(credentialId: string, policy: CredentialPolicy): void {
    // Revocation is final: a writer that read the record before a DELETE (a
    // concurrent PATCH, a token request) must not publish it back to life.
    const revokedAt = earliest(this.ctx.storage.kv.get<CredentialPolicy>("policy")?.revokedAt ?? null, policy.revokedAt);
    this.ctx.storage.kv.put("id", credentialId);
    this.ctx.storage.kv.put("policy", { ...policy, revokedAt });
  }

  /** Requests per UTC day, newest first, including counts not yet flushed to D1. */
  usage(): { day: string; count: number }[] {
    const out: { day: string; count: number }[] = [];
    for (const [key, count] of this.ctx.storage.kv.list<number>({ prefix: "day:" })) {
      out.push({ day: key.slice(4), count });
    }
    return out.sort((a, b) => (a.day < b.day ? 1 : -1));
  }

  lastUsedAt(): number | null {
    return this.ctx.storage.kv.get<number>("lastUsedAt") ?? null;
  }

  private recordUse(credentialId: string, now: number): void {
    const kv = this.ctx.storage.kv;
    const day = new Date(now).toISOString().slice(0, 10);
    kv.put("id", credentialId);
    kv.put(`day:${day}`, (kv.get<number>(`day:${day}`) ?? 0) + 1);
    kv.put(`pending:${day}`, (kv.get<number>(`pending:${day}`) ?? 0) + 1);
    kv.put("lastUsedAt", now);
    kv.put("dirty", true);
    if (!kv.get<boolean>("alarmSet")) {
      kv.put("alarmSet", true);
      void this.ctx.storage.setAlarm(now + FLUSH_INTERVAL_MS);
    }
  }

  /** Writes lastUsedAt and the per-day counts to D1; a throw makes the runtime retry. */
  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv;
    kv.put("alarmSet", false);
    const id = kv.get<string>("id");
    if (!id || !kv.get<boolean>("dirty")) return;
    const pending = [...kv.list<number>({ prefix: "pending:" })];
    const lastUsedAt = kv.get<number>("lastUsedAt") ?? Date.now();
    const table = id.startsWith("cli_") ? "oauth_clients" : "api_keys";
    const statements = [
      this.env.DB.prepare(`UPDATE ${table} SET last_used_at = ? WHERE id = ?`).bind(lastUsedAt, id),
      ...pending.map(([key, delta]) =>
        this.env.DB.prepare(
          "INSERT INTO credential_usage (credential_id, day, count) VALUES (?, ?, ?) " +
            "ON CONFLICT (credential_id, day) DO UPDATE SET count = count + excluded.count",
        ).bind(id, key.slice(8), delta),
      ),
    ];
    await this.env.DB.batch(statements);
    for (const [key, delta] of pending) {
      // Requests counted while the batch was in flight stay pending for the next flush.
      const left = (kv.get<number>(key) ?? 0) - delta;
      if (left > 0) kv.put(key, left);
      else kv.delete(key);
    }
    kv.put("dirty", [...kv.list({ prefix: "pending:" })].length > 0);
    this.pruneOldDays();
    if (kv.get<boolean>("dirty")) {
      kv.put("alarmSet", true);
      await this.ctx.storage.setAlarm(Date.now() + FLUSH_INTERVAL_MS);
    }
  }

  private pruneOldDays(): void {
    const cutoff = new Date(Date.now() - USAGE_DAYS_KEPT * 86_400_000).toISOString().slice(0, 10);
    for (const [key] of this.ctx.storage.kv.list({ prefix: "day:" })) {
      if (key.slice(4) < cutoff) this.ctx.storage.kv.delete(key);
    }
  }
}

/** The object that gates credential `id`. */
export function credentialGate(env: Env, id: string): DurableObjectStub<CredentialLimiter> {
  return env.CREDENTIAL_LIMITER.get(env.CREDENTIAL_LIMITER.idFromName(id));
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
