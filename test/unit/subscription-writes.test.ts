import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "../../src");
const STORE = "db/webhook-store.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

/** A write to the webhooks table: drizzle's insert/update/delete, the quota-checked inserts, or raw SQL. */
const WRITES = [
  /\.(insert|update|delete)\(\s*webhooks\s*\)/,
  /\binsert(UnderQuota|Where)\(\s*\w+\s*,\s*webhooks\b/,
  /\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM|REPLACE\s+INTO)\s+["`]?webhooks\b/i,
];
const writesWebhooks = (text: string) => WRITES.some((re) => re.test(text));

describe("every change to a subscription goes through src/db/webhook-store.ts", () => {
  it("no other module writes the webhooks table (so none can forget to drop the cached subscriber lists)", () => {
    const writers = sources(SRC).filter((f) => writesWebhooks(readFileSync(f, "utf8")));
    expect(writers.map((f) => path.relative(SRC, f))).toEqual([STORE]);
  });

  it("each of the store's writes runs through its commit, which drops the cached lists", () => {
    const text = readFileSync(path.join(SRC, STORE), "utf8");
    const writes = text.split(/^export /m).filter((part) => /^async function store/.test(part));
    expect(writes.length).toBeGreaterThanOrEqual(5);
    for (const body of writes) expect(body, body.slice(0, 60)).toMatch(/\bcommit\(db, /);
    // Only writes touch the table: anything else the module exports is the cache's side.
    for (const part of text.split(/^export /m).slice(1)) if (!/^async function store/.test(part)) expect(writesWebhooks(part)).toBe(false);
    expect(text).toMatch(/async function commit\([\s\S]*?finally \{[^}]*forgetSubscribers\(ownerId\)/);
  });

  it("the check recognises each way of writing the table", () => {
    for (const write of [
      "db.update(webhooks).set({ isEnabled: false })",
      "db.insert( webhooks ).values(row)",
      "insertUnderQuota(db, webhooks, row, counted, quota)",
      'sql.exec("UPDATE webhooks SET url = ?", url)',
      "DELETE FROM webhooks WHERE id = ?",
    ]) {
      expect(writesWebhooks(write), write).toBe(true);
    }
    for (const read of ["db.select().from(webhooks)", "db.update(webhookStats)", "eq(webhooks.id, id)"]) {
      expect(writesWebhooks(read), read).toBe(false);
    }
  });
});
