import { beforeAll, describe, expect, it } from "vitest";
import { newRoomyTenant } from "./helpers";
import {
  DEEP_JSON,
  expectClientProblem,
  fill,
  hasBody,
  hugeStrings,
  MADE_UP_IDS,
  type Operation,
  operations,
  send,
  snapshot,
  UNKNOWN_FIELDS,
  wrongTypes,
} from "./security-kit";

/**
 * Every route that takes a body, called by a credential allowed to call it,
 * with bodies no caller should send: each answer is a 4xx problem, never a
 * 5xx, and nothing is stored.
 */

let writes: Operation[];
let key: string;

beforeAll(async () => {
  writes = (await operations()).filter(hasBody);
  ({ key } = await newRoomyTenant());
});

/** Who may call `op`: the operator's token, or the tenant's every-scope key. */
const as = (op: Operation) => (op.admin ? { admin: true } : { key });

type Case = {
  what: string;
  body: (op: Operation) => string | Record<string, unknown>;
  status?: number;
  code?: string;
  contentType?: string;
};

const CASES: Case[] = [
  { what: "JSON nested 80 deep", body: () => DEEP_JSON, status: 400, code: "too_deep" },
  { what: "malformed JSON", body: () => '{"name": "x",, }', status: 400, code: "malformed_json" },
  { what: "a JSON body as text/plain", body: () => "{}", status: 415, code: "unsupported_media_type", contentType: "text/plain" },
  { what: "a body over 256 KiB", body: () => ({ name: "x".repeat(300 * 1024) }), status: 413, code: "payload_too_large" },
];

/** Bodies checked against the route's own schema: only for routes that document one. */
const SCHEMA_CASES: Case[] = [
  { what: "every field of the wrong type", body: (op) => wrongTypes(op.bodySchema), status: 422, code: "validation_failed" },
  { what: "unknown fields (__proto__ too)", body: () => UNKNOWN_FIELDS, status: 422, code: "validation_failed" },
  { what: "huge strings in every field", body: (op) => hugeStrings(op.bodySchema), status: 422, code: "validation_failed" },
  { what: "an array instead of an object", body: () => "[1,2,3]", status: 422, code: "validation_failed" },
  { what: "null", body: () => "null", status: 422, code: "validation_failed" },
];

async function run(op: Operation, c: Case) {
  const headers: Record<string, string> = c.contentType ? { "content-type": c.contentType } : {};
  const res = await send(op, fill(op.template, MADE_UP_IDS), { ...as(op), headers, json: c.body(op) });
  expectClientProblem(res, `${op.label}: ${c.what}`, c.status, c.code);
  return res;
}

describe("security: hostile bodies on every route that takes one", () => {
  it("the document lists the routes with bodies", () => {
    expect(writes.length).toBeGreaterThan(30);
    expect(writes.filter((o) => o.bodySchema?.properties).length).toBeGreaterThan(20);
  });

  it.each(CASES.map((c) => [c.what, c]))("%s → its 4xx on every route, nothing stored", async (_what, c) => {
    const before = await snapshot();
    for (const op of writes) await run(op, c);
    expect(await snapshot()).toEqual(before);
  });

  it.each(SCHEMA_CASES.map((c) => [c.what, c]))("%s → 422 naming fields on every documented body, nothing stored", async (_what, c) => {
    const before = await snapshot();
    for (const op of writes.filter((o) => o.bodySchema?.properties)) {
      const res = await run(op, c);
      expect(Array.isArray(res.body.errors) && res.body.errors.length > 0, `${op.label}: ${res.text.slice(0, 200)}`).toBe(true);
    }
    expect(await snapshot()).toEqual(before);
    // Nothing was polluted either.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
