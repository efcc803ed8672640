import { z } from "zod";

/**
 * The Worker's bindings. Vars and secrets arrive as strings and are parsed once
 * into {@link Config}; code outside this file reads `Config`, never raw vars.
 */
export interface Env {
  DB: D1Database;
  DELIVERY_QUEUE: Queue<import("./delivery/queue").DeliveryMessage>;
  ENDPOINT_GOVERNOR: DurableObjectNamespace<import("./delivery/endpoint-governor").EndpointGovernor>;
  CREDENTIAL_GATE: DurableObjectNamespace<import("./ratelimit/credential-gate").CredentialGate>;
  DATA_SHARD: DurableObjectNamespace<import("./data/data-shard").DataShard>;
  REPLAY_LANE: DurableObjectNamespace<import("./replays/lane").ReplayLane>;
  LISTEN_SESSION: DurableObjectNamespace<import("./listen/listen-session").ListenSession>;
  KEY_PREFIX?: string;
  DELIVERY_TIMEOUT_MS?: string;
  RETRY_SCHEDULE?: string;
  BREAKER_THRESHOLD?: string;
  BREAKER_PROBE_SECONDS?: string;
  BREAKER_GIVE_UP_HOURS?: string;
  EVENT_RETENTION_DAYS?: string;
  ALLOW_INSECURE_URLS?: string;
  GATEWAY_TIMEOUT_MS?: string;
  FIRST_ATTEMPT?: string;
  ADMIN_TOKEN?: string;
  TOKEN_SIGNING_KEY?: string;
  SECRETS_KEY?: string;
  GATEWAY_SECRET?: string;
}

const intVar = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? String(fallback) : v))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const base64Key = z
  .string({ error: "is not set" })
  .min(1, "is not set")
  .refine((v) => {
    try {
      return Uint8Array.from(atob(v), (ch) => ch.charCodeAt(0)).length === 32;
    } catch {
      return false;
    }
  }, "must be base64 of exactly 32 bytes");

const configSchema = z.object({
  KEY_PREFIX: z
    .string()
    .optional()
    .transform((v) => v || "hg")
    .pipe(z.string().regex(/^[a-z][a-z0-9]{0,15}$/, "must be 1-16 lowercase letters or digits")),
  DELIVERY_TIMEOUT_MS: intVar(10_000, 100, 60_000),
  RETRY_SCHEDULE: z
    .string()
    .optional()
    .transform((v) => v || "60,300,1800,7200")
    .pipe(
      z
        .string()
        .transform((v) => v.split(",").map((s) => Number(s.trim())))
        .pipe(z.array(z.number().int().min(1).max(43_200)).min(1).max(8)),
    ),
  BREAKER_THRESHOLD: intVar(20, 1, 10_000),
  BREAKER_PROBE_SECONDS: intVar(60, 1, 3_600),
  BREAKER_GIVE_UP_HOURS: intVar(72, 1, 24 * 365),
  EVENT_RETENTION_DAYS: intVar(30, 1, 3650),
  ALLOW_INSECURE_URLS: z
    .string()
    .optional()
    .transform((v) => v === "true" || v === "1"),
  GATEWAY_TIMEOUT_MS: intVar(30_000, 100, 300_000),
  FIRST_ATTEMPT: z
    .string()
    .optional()
    .transform((v) => v || "inline")
    .pipe(z.enum(["inline", "queue"], { error: 'must be "inline" or "queue"' })),
  ADMIN_TOKEN: z.string({ error: "is not set" }).min(16, "must be at least 16 characters"),
  TOKEN_SIGNING_KEY: z.string({ error: "is not set" }).min(32, "must be at least 32 characters"),
  SECRETS_KEY: base64Key,
  GATEWAY_SECRET: z.string({ error: "is not set" }).min(32, "must be at least 32 characters"),
});

export type Config = {
  keyPrefix: string;
  deliveryTimeoutMs: number;
  retrySchedule: number[];
  breakerThreshold: number;
  /** The tripped breaker's first probe comes this long after the trip; each failed probe doubles the wait (at most 1 h). */
  breakerProbeSeconds: number;
  /** Held deliveries fail after this long without a success. */
  breakerGiveUpHours: number;
  eventRetentionDays: number;
  allowInsecureUrls: boolean;
  gatewayTimeoutMs: number;
  /** Where a delivery's first attempt runs: inline after the publish (default), or through the queue. */
  firstAttempt: "inline" | "queue";
  adminToken: string;
  tokenSigningKey: string;
  secretsKey: string;
  gatewaySecret: string;
};

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

// Bindings are fixed for the life of an isolate, so parse once per env object.
const parsed = new WeakMap<object, ConfigResult>();

/** Parses and validates vars and secrets once per isolate; never throws. */
export function loadConfig(env: Env): ConfigResult {
  const cached = parsed.get(env);
  if (cached) return cached;
  const result = configSchema.safeParse(env);
  let out: ConfigResult;
  if (result.success) {
    const c = result.data;
    out = {
      ok: true,
      config: {
        keyPrefix: c.KEY_PREFIX,
        deliveryTimeoutMs: c.DELIVERY_TIMEOUT_MS,
        retrySchedule: c.RETRY_SCHEDULE,
        breakerThreshold: c.BREAKER_THRESHOLD,
        breakerProbeSeconds: c.BREAKER_PROBE_SECONDS,
        breakerGiveUpHours: c.BREAKER_GIVE_UP_HOURS,
        eventRetentionDays: c.EVENT_RETENTION_DAYS,
        allowInsecureUrls: c.ALLOW_INSECURE_URLS,
        gatewayTimeoutMs: c.GATEWAY_TIMEOUT_MS,
        firstAttempt: c.FIRST_ATTEMPT,
        adminToken: c.ADMIN_TOKEN,
        tokenSigningKey: c.TOKEN_SIGNING_KEY,
        secretsKey: c.SECRETS_KEY,
        gatewaySecret: c.GATEWAY_SECRET,
      },
    };
  } else {
    const problems = result.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
    // Logged once per isolate: this is the "startup error" an operator looks for.
    console.error(`Hookgate configuration is invalid: ${problems.join("; ")}`);
    out = { ok: false, problems };
  }
  parsed.set(env, out);
  return out;
}
