import { describe, expect, it } from "vitest";
import { validateAgainstSchema } from "../../src/lib/json-schema";
import { MAX_IN_PLACE, MAX_SCHEMA_PATTERN_PROGRAM, schemaProblems } from "../../src/lib/schema-check";

/** `{if: {type: "number"}, then: {$ref: "#"}}`, written as JSON: an object literal with `then` looks like a promise. */
const IF_THEN_ROOT: unknown = JSON.parse('{"if":{"type":"number"},"then":{"$ref":"#"}}');

const paths = (schema: unknown) => schemaProblems(schema).map((p) => p.path);
const only = (schema: unknown) => {
  const problems = schemaProblems(schema);
  expect(problems, JSON.stringify(schema)).toHaveLength(1);
  return problems[0]!;
};

/** `n` levels of `$defs` where each level applies the next one twice to the same value. */
function doubling(n: number) {
  const defs: Record<string, unknown> = { [`d${n}`]: { type: "number" } };
  for (let i = 0; i < n; i++) defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  return { $defs: defs, $ref: "#/$defs/d0" };
}

describe("schemaProblems: recursion", () => {
  it.each([
    [IF_THEN_ROOT, "schema.then.$ref"],
    [{ allOf: [{ $ref: "#" }] }, "schema.allOf.0.$ref"],
    [{ anyOf: [{ type: "string" }, { not: { $ref: "#" } }] }, "schema.anyOf.1.not.$ref"],
    [{ $ref: "#" }, "schema.$ref"],
    [{ $defs: { a: { $ref: "#/$defs/b" }, b: { oneOf: [{ $ref: "#/$defs/a" }] } }, $ref: "#/$defs/a" }, "schema.$defs.b.oneOf.0.$ref"],
    [{ dependentSchemas: { x: { $ref: "#" } } }, "schema.dependentSchemas.x.$ref"],
    [{ dependencies: { x: { else: { $ref: "#" } } } }, "schema.dependencies.x.else.$ref"],
    [{ $recursiveAnchor: true, anyOf: [{ $recursiveRef: "#" }] }, "schema.anyOf.0.$recursiveRef"],
  ])("refuses an in-place cycle %j at %s", (schema, path) => {
    const p = only(schema);
    expect(p.path).toBe(path);
    expect(p.message).toMatch(/recurse without end/);
  });

  it.each([
    { properties: { child: { $ref: "#" } } },
    { type: "array", items: { $ref: "#" } },
    { prefixItems: [{ $ref: "#" }] },
    { additionalProperties: { $ref: "#" } },
    { patternProperties: { "^x": { $ref: "#" } } },
    { propertyNames: { $ref: "#" } },
    { contains: { $ref: "#" } },
    { $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } }, $ref: "#/$defs/node" },
    // Two paths to one subschema, no cycle.
    { allOf: [{ $ref: "#/$defs/a" }, { $ref: "#/$defs/a" }], $defs: { a: { type: "object" } } },
  ])("accepts recursion that descends into the data: %j", (schema) => {
    expect(schemaProblems(schema)).toEqual([]);
  });

  it("refuses a fan-out past the bound, accepts one within it", () => {
    // Each level applies itself, two {$ref} wrappers and twice the next: 509 subschemas for 7 levels, 2045 for 9.
    expect(schemaProblems(doubling(7))).toEqual([]);
    const p = only(doubling(9));
    expect(p.message).toContain(`more than ${MAX_IN_PLACE} subschemas`);
  });
});

describe("schemaProblems: references", () => {
  it("refuses an unresolvable or non-local $ref, naming it", () => {
    expect(only({ $ref: "#/$defs/missing" })).toMatchObject({ path: "schema.$ref", message: expect.stringContaining("#/$defs/missing") });
    expect(only({ properties: { a: { $ref: "#/properties/b" } } }).path).toBe("schema.properties.a.$ref");
    expect(only({ $ref: "https://evil.example/s.json" }).message).toContain("only local references");
    expect(only({ $ref: 5 }).path).toBe("schema.$ref");
  });

  it("resolves refs as the validator does: pointers, anchors, $id bases", () => {
    expect(schemaProblems({ $defs: { a: { type: "string" } }, properties: { x: { $ref: "#/$defs/a" } } })).toEqual([]);
    expect(schemaProblems({ $defs: { a: { $anchor: "thing", type: "string" } }, properties: { x: { $ref: "#thing" } } })).toEqual([]);
    expect(schemaProblems({ $id: "https://a.example/root", properties: { x: { $ref: "#/$defs/y" } }, $defs: { y: {} } })).toEqual([]);
  });

  it("checks what a $ref reaches, even under a keyword no validator applies", () => {
    expect(only({ "x-meta": { pattern: "(?=a)" }, $ref: "#/x-meta" }).path).toBe("schema.x-meta.pattern");
    // Not reachable: never compiled, so not refused.
    expect(schemaProblems({ "x-meta": { pattern: "(?=a)" } })).toEqual([]);
  });
});

describe("schemaProblems: patterns", () => {
  it.each([
    [{ pattern: "(?=a)" }, "schema.pattern", "lookahead"],
    [{ pattern: "a(?!b)" }, "schema.pattern", "lookahead"],
    [{ pattern: "(?<=a)b" }, "schema.pattern", "lookbehind"],
    [{ pattern: "(?<!a)b" }, "schema.pattern", "lookbehind"],
    [{ pattern: "(a)\\1" }, "schema.pattern", "backreference"],
    [{ pattern: "(?<x>a)\\k<x>" }, "schema.pattern", "backreference"],
    [{ pattern: "[" }, "schema.pattern", "not a valid regular expression"],
    [{ pattern: "\\p{Script=Greek}" }, "schema.pattern", "linear-time engine"],
    [{ pattern: "a{1000}b{1000}" }, "schema.pattern", "too complex"],
    [{ pattern: 5 }, "schema.pattern", "must be a string"],
    [{ patternProperties: { "^(?!x)": { type: "string" } } }, "schema.patternProperties.^(?!x)", "lookahead"],
    [{ properties: { a: { items: { pattern: "(?=a)" } } } }, "schema.properties.a.items.pattern", "lookahead"],
    [{ propertyNames: { pattern: "\\1(a)" } }, "schema.propertyNames.pattern", "backreference"],
    [{ $defs: { a: { pattern: "(?=a)" } } }, "schema.$defs.a.pattern", "lookahead"],
  ])("refuses %j at %s (%s)", (schema, path, words) => {
    const p = only(schema);
    expect(p.path).toBe(path);
    expect(p.message).toContain(words);
  });

  it.each([
    "^(a+)+$",
    "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$",
    "^(?<year>\\d{4})-(?<month>\\d{2})$",
    "[\\(?=]",
    "\\u0041\\u{1F600}",
    "^\\p{Lu}+$",
    "",
  ])("accepts %j", (pattern) => {
    expect(schemaProblems({ pattern })).toEqual([]);
  });

  it("bounds the schema's patterns together", () => {
    const props = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`p${i}`, { pattern: `^x{${990 - i}}$` }]));
    const problems = schemaProblems({ properties: props });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(`more than ${MAX_SCHEMA_PATTERN_PROGRAM}`);
  });
});

describe("schemaProblems: shapes", () => {
  it("names each misshapen keyword", () => {
    expect(paths({ anyOf: {} })).toEqual(["schema.anyOf"]);
    expect(paths({ not: 5 })).toEqual(["schema.not"]);
    expect(paths({ properties: [] })).toEqual(["schema.properties"]);
    expect(paths({ dependencies: { a: [1] } })).toEqual(["schema.dependencies.a"]);
    expect(paths({ enum: "x" })).toEqual(["schema.enum"]);
    expect(only({ type: "strng" }).allowed).toContain("string");
    expect(paths(["string"])).toEqual(["schema"]);
  });
});

describe("validateAgainstSchema never throws", () => {
  it("turns a validator failure into a field error under data", () => {
    for (const schema of [IF_THEN_ROOT, { $ref: "#/nope" }, { pattern: "(?=a)" }, { anyOf: {} }] as Record<string, unknown>[]) {
      const errors = validateAgainstSchema(schema, 5);
      if (errors.length > 0) expect(errors[0]!.path).toBe("data");
    }
    const recursion = validateAgainstSchema(IF_THEN_ROOT as Record<string, unknown>, 5);
    expect(recursion).toEqual([{ path: "data", message: expect.stringContaining("could not be checked") }]);
    expect(validateAgainstSchema({ pattern: "(?=a)" }, "a")[0]!.message).toContain("lookahead");
  });

  it("still validates: patterns, patternProperties, formats", () => {
    expect(validateAgainstSchema({ pattern: "^a+$" }, "aaa")).toEqual([]);
    expect(validateAgainstSchema({ pattern: "^a+$" }, "aab")).toHaveLength(1);
    const pp = validateAgainstSchema({ patternProperties: { "^n_": { type: "number" } } }, { n_a: "x", other: "y" });
    expect(pp.map((e) => e.path)).toEqual(["data.n_a"]);
    expect(validateAgainstSchema({ format: "regex" }, "(")).toHaveLength(1);
    expect(validateAgainstSchema({ format: "regex" }, "(?=a)")).toEqual([]);
    expect(validateAgainstSchema({ format: "date-time" }, "2024-01-01T00:00:00Z")).toEqual([]);
    expect(validateAgainstSchema({ format: "date-time" }, "nope")).toHaveLength(1);
  });
});
