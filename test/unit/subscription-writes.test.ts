import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "../../src");
const STORE = "webhooks/store.ts";

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

describe("every change to a subscription goes through src/webhooks/store.ts", () => {
  it("no other module writes the webhooks table (so none can forget to drop the cached subscriber lists)", () => {
    const writers = sources(SRC).filter((f) => writesWebhooks(readFileSync(f, "utf8")));
    expect(writers.map((f) => path.relative(SRC, f))).toEqual([STORE]);
  });

  it("each of the store's writes runs through its commit, which drops the cached lists", () => {
    const text = readFileSync(path.join(SRC, STORE), "utf8");
    const exported = text.split(/^export /m).slice(1);
    expect(exported.length).toBeGreaterThanOrEqual(5);
    for (const body of exported) expect(body, body.slice(0, 60)).toMatch(/\bcommit\(db, /);
    expect(text).toMatch(/async function commit\([\s\S]*?finally \{[^}]*forgetCatalog\(ownerId\)/);
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
