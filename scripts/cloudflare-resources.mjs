// What a Hookgate deployment consists of, in one place.
//
// Resource names (the Worker, the D1 database, the queues) are read from
// wrangler.toml rather than declared here: it is the file `wrangler deploy`
// binds, so setup can never create a queue that deploy does not use, and
// renaming one is a single edit. Secrets have no machine-readable home in
// wrangler.toml, so their names and generators live here, shared by local
// development (.dev.vars) and `npm run setup:cloudflare`.
import { randomBytes } from "node:crypto";

/** Secret name → generator; the formats are the ones src/env.ts validates. */
export const SECRETS = {
  // ≥ 16 characters; the prefix makes a leaked operator token easy to recognise.
  ADMIN_TOKEN: () => `hgadmin_${randomBytes(24).toString("base64url")}`,
  // ≥ 32 characters (HS256 key): 64 characters here.
  TOKEN_SIGNING_KEY: () => randomBytes(48).toString("base64url"),
  // Standard base64 of exactly 32 bytes (AES-256-GCM key).
  SECRETS_KEY: () => randomBytes(32).toString("base64"),
  // ≥ 32 characters (HMAC-SHA256 key): 43 characters here.
  GATEWAY_SECRET: () => randomBytes(32).toString("base64url"),
};

/**
 * The Cloudflare resources a wrangler config binds: `{worker, accountId,
 * database: {binding, name, id}, queues}`. Parsed with wrangler's own reader so TOML is
 * interpreted exactly as `wrangler deploy` will (loaded lazily: it is large).
 */
export async function readResources(configPath) {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: configPath });
  const d1 = rawConfig.d1_databases ?? [];
  const db = d1.find((d) => d.binding === "DB") ?? d1[0];
  if (!db?.database_name) throw new Error(`${configPath} has no [[d1_databases]] entry with a database_name`);
  const { producers = [], consumers = [] } = rawConfig.queues ?? {};
  const queues = [
    ...new Set([...producers.map((p) => p.queue), ...consumers.flatMap((c) => [c.queue, c.dead_letter_queue])].filter(Boolean)),
  ];
  return {
    worker: rawConfig.name,
    accountId: rawConfig.account_id,
    database: { binding: db.binding, name: db.database_name, id: db.database_id },
    queues,
  };
}

/**
 * `text` with the database_id of the [[d1_databases]] block bound as `binding`
 * set to `id`. Only that line changes, so comments and layout survive (a TOML
 * round trip would drop them).
 */
export function setDatabaseId(text, binding, id) {
  const lines = text.split("\n");
  const isHeader = (line) => /^\s*\[/.test(line);
  for (let start = 0; start < lines.length; start++) {
    if (!/^\s*\[\[d1_databases\]\]/.test(lines[start])) continue;
    let end = start + 1;
    while (end < lines.length && !isHeader(lines[end])) end++;
    const block = lines.slice(start + 1, end);
    if (!block.some((line) => new RegExp(`^\\s*binding\\s*=\\s*"${binding}"`).test(line))) continue;
    const at = block.findIndex((line) => /^\s*database_id\s*=/.test(line));
    if (at === -1) break;
    const i = start + 1 + at;
    lines[i] = lines[i].replace(/=\s*"[^"]*"/, `= "${id}"`);
    return lines.join("\n");
  }
  throw new Error(`no database_id line in the [[d1_databases]] block with binding = "${binding}"`);
}
