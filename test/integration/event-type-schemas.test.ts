import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countDataRows } from "./data-plane";
import { call, expectProblem, fieldError, newRoomyTenant, type Result, uniqueTypeName } from "./helpers";

/**
 * Schemas are compiled and checked when stored, and publishing against any
 * stored schema answers 202 or 422, never 500, and never spins: patterns run
 * on a linear-time engine.
 */

const KIB = 1024;
/** Catastrophic backtracking would take far longer; a linear engine takes milliseconds. */
const GENEROUS_MS = 2000;

type Catalog = {
  create: (body: unknown) => Promise<Result>;
  patch: (name: string, body: unknown) => Promise<Result>;
  get: (name: string) => Promise<Result>;
};

async function tenantCatalog(): Promise<Catalog & { key: string; tenantId: string }> {
  const { key, tenant } = await newRoomyTenant();
  return {
    key,
    tenantId: tenant.id,
    create: (body) => call("POST", "/v1/event-types", { key, body }),
    patch: (name, body) => call("PATCH", `/v1/event-types/${name}`, { key, body }),
    get: (name) => call("GET", `/v1/event-types/${name}`, { key }),
  };
}

const operatorCatalog: Catalog = {
  create: (body) => call("POST", "/admin/event-types", { admin: true, body }),
  patch: (name, body) => call("PATCH", `/admin/event-types/${name}`, { admin: true, body }),
  get: (name) => call("GET", `/admin/event-types/${name}`, { admin: true }),
};

/** `{if: {type: "number"}, then: {$ref: "#"}}`, written as JSON: an object literal with `then` looks like a promise. */
const IF_THEN_ROOT: unknown = JSON.parse('{"if":{"type":"number"},"then":{"$ref":"#"}}');

/** Refused schemas, the path the 422 names, and words of its message. */
const REFUSED: [what: string, schema: unknown, path: string, words: string][] = [
  ["if/then back to the root", IF_THEN_ROOT, "schema.then.$ref", "recurse without end"],
  ["allOf back to the root", { allOf: [{ $ref: "#" }] }, "schema.allOf.0.$ref", "recurse without end"],
  [
    "a cycle through $defs",
    { $defs: { a: { anyOf: [{ $ref: "#/$defs/a" }] } }, $ref: "#/$defs/a" },
    "schema.$defs.a.anyOf.0.$ref",
    "recurse",
  ],
  ["an unresolvable $ref", { properties: { a: { $ref: "#/$defs/missing" } } }, "schema.properties.a.$ref", "cannot be resolved"],
  ["a remote $ref", { $ref: "https://schemas.example.com/s.json" }, "schema.$ref", "only local references"],
  ["a lookahead", { properties: { code: { type: "string", pattern: "^(?=x)" } } }, "schema.properties.code.pattern", "lookahead"],
  ["a lookbehind", { pattern: "(?<=a)b" }, "schema.pattern", "lookbehind"],
  ["a backreference", { items: { pattern: "^(a)\\1$" } }, "schema.items.pattern", "backreference"],
  ["a named backreference", { pattern: "(?<q>['\"]).*\\k<q>" }, "schema.pattern", "backreference"],
  ["an invalid pattern", { pattern: "([a-z]" }, "schema.pattern", "not a valid regular expression"],
  [
    "a patternProperties key",
    { patternProperties: { "^(?!internal_)": { type: "string" } } },
    "schema.patternProperties.^(?!internal_)",
    "lookahead",
  ],
  ["a pattern too large", { pattern: "a{1000}b{1000}" }, "schema.pattern", "too complex"],
  ["a misshapen applicator", { anyOf: { type: "string" } }, "schema.anyOf", "array of schemas"],
];

describe.each([
  ["tenant", tenantCatalog],
  ["operator", async () => operatorCatalog],
] as const)("%s event types: schemas are checked when stored", (_owner, catalogOf) => {
  it.each(REFUSED)("POST refuses %s with 422 naming %s, storing nothing", async (_what, schema, path, words) => {
    const catalog = await catalogOf();
    const name = uniqueTypeName("sch");
    const res = await catalog.create({ name, schema });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, path).message).toContain(words);
    expectProblem(await catalog.get(name), 404, "not_found");
  });

  it.each(REFUSED)("PATCH refuses %s with 422 naming %s, leaving the schema as it was", async (_what, schema, path, words) => {
    const catalog = await catalogOf();
    const name = uniqueTypeName("sch");
    const before = { type: "object" };
    expect((await catalog.create({ name, schema: before })).status).toBe(201);
    const res = await catalog.patch(name, { schema, description: "must not stick" });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, path).message).toContain(words);
    const got = await catalog.get(name);
    expect(got.body).toMatchObject({ schema: before, description: null });
  });

  it("accepts recursion that descends into the data (a tree), and the pattern ^(a+)+$", async () => {
    const catalog = await catalogOf();
    const tree = { type: "object", properties: { label: { type: "string", pattern: "^(a+)+$" }, child: { $ref: "#" } } };
    const name = uniqueTypeName("tree");
    const res = await catalog.create({ name, schema: tree });
    expect(res.status, res.text).toBe(201);
    expect(res.body.schema).toEqual(tree);
    const patched = await catalog.patch(name, { schema: { ...tree, required: ["label"] } });
    expect(patched.status, patched.text).toBe(200);
  });
});

async function publish(key: string, type: string, data: unknown) {
  const started = Date.now();
  const res = await call("POST", "/v1/events", { key, body: { type, data } });
  return { res, ms: Date.now() - started };
}

/** The longest string `data` can be while the whole publish body stays within 256 KiB. */
const longest = (type: string, tail: string) => "a".repeat(256 * KIB - JSON.stringify({ type, data: "" }).length - tail.length) + tail;

describe("publishing against hostile patterns", () => {
  it('^(a+)+$ against "a"×40+"!" and against a 256 KiB string: a quick 422, a quick 202', async () => {
    const { key, tenant } = await newRoomyTenant();
    const type = "hostile.pattern";
    const created = await call("POST", "/v1/event-types", { key, body: { name: type, schema: { type: "string", pattern: "^(a+)+$" } } });
    expect(created.status, created.text).toBe(201);

    const short = await publish(key, type, `${"a".repeat(40)}!`);
    expectProblem(short.res, 422, "validation_failed");
    expect(fieldError(short.res, "data").message).toMatch(/does not match pattern/);
    expect(short.ms).toBeLessThan(GENEROUS_MS);

    const hostile = longest(type, "!");
    const long = await publish(key, type, hostile);
    expectProblem(long.res, 422, "validation_failed");
    expect(long.ms).toBeLessThan(GENEROUS_MS);

    const fine = await publish(key, type, longest(type, "a"));
    expect(fine.res.status, fine.res.text.slice(0, 300)).toBe(202);
    expect(fine.ms).toBeLessThan(GENEROUS_MS);

    // Nothing was stored for the refused ones; the accepted one is there.
    expect(await countDataRows(tenant.id, "events", "type = ?", type)).toBe(1);
    expect((await call("GET", "/health")).status).toBe(200);
  });

  it("patternProperties keys run on the same engine", async () => {
    const { key } = await newRoomyTenant();
    const type = "hostile.keys";
    const schema = { type: "object", patternProperties: { "^(a|aa)+$": { type: "number" } } };
    expect((await call("POST", "/v1/event-types", { key, body: { name: type, schema } })).status).toBe(201);
    const data = { [`${"a".repeat(5000)}!`]: "not checked", [`${"a".repeat(64)}`]: "a string" };
    const { res, ms } = await publish(key, type, data);
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, `data.${"a".repeat(64)}`).message).toMatch(/number/);
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it("a long string against a large pattern is refused (422) for its cost, not run for seconds", async () => {
    const { key } = await newRoomyTenant();
    const type = "costly.pattern";
    // Defeats RE2's DFA, so it would run on the slower NFA: ~100 instructions × 200 KiB.
    const schema = { type: "string", pattern: "a[ab]{100}c[X-Z]" };
    expect((await call("POST", "/v1/event-types", { key, body: { name: type, schema } })).status).toBe(201);
    const { res, ms } = await publish(key, type, "ab".repeat(100 * KIB));
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "data").message).toMatch(/would take too long/);
    expect(ms).toBeLessThan(GENEROUS_MS);
    // A short value of the same type is checked as usual.
    const ok = await publish(key, type, `a${"b".repeat(100)}cX`);
    expect(ok.res.status, ok.res.text).toBe(202);
  });

  it("the operator's publish for a tenant goes through the same checks", async () => {
    const { tenant } = await newRoomyTenant();
    const name = uniqueTypeName("ophostile");
    expect((await operatorCatalog.create({ name, schema: { type: "string", pattern: "^(a+)+$" } })).status).toBe(201);
    const started = Date.now();
    const res = await call("POST", `/admin/tenants/${tenant.id}/events`, {
      admin: true,
      body: { type: name, data: `${"a".repeat(5000)}!` },
    });
    expectProblem(res, 422, "validation_failed");
    expect(Date.now() - started).toBeLessThan(GENEROUS_MS);
  });
});

describe("a schema that fails inside the validator is a 422, never a 500", () => {
  // Rows written before the store-time checks existed: put straight into D1, as they would be.
  async function legacyType(schema: unknown) {
    const { key, tenant } = await newRoomyTenant();
    const name = uniqueTypeName("legacy");
    expect((await call("POST", "/v1/event-types", { key, body: { name } })).status).toBe(201);
    await env.DB.prepare("UPDATE event_types SET schema = ? WHERE tenant_id = ? AND name = ?")
      .bind(JSON.stringify(schema), tenant.id, name)
      .run();
    return { key, name, tenantId: tenant.id as string };
  }

  it.each([
    ["endless recursion", IF_THEN_ROOT, 5, "could not be checked"],
    ["an unresolvable $ref", { $ref: "#/$defs/nope" }, 5, "Unresolved $ref"],
    ["a lookahead", { pattern: "^(?=a)" }, "a", "lookahead"],
    ["a backreference", { pattern: "(a)\\1" }, "aa", "backreference"],
    ["an invalid pattern", { pattern: "(" }, "x", "could not be checked"],
    ["a misshapen allOf", { allOf: { type: "number" } }, 5, "could not be checked"],
  ])("%s → 422 on data, nothing stored", async (_what, schema, data, words) => {
    const { key, name, tenantId } = await legacyType(schema);
    const res = await call("POST", "/v1/events", { key, body: { type: name, data } });
    expectProblem(res, 422, "validation_failed");
    expect(fieldError(res, "data").message).toContain(words);
    expect(await countDataRows(tenantId, "events", "type = ?", name)).toBe(0);
  });
});
