import { dereference, ignoredKeyword, type Schema, schemaArrayKeyword, schemaMapKeyword } from "@cfworker/json-schema";
import type { FieldError } from "./errors";
import { compileLinearPattern, PatternError } from "./linear-regexp";

/**
 * Checks a JSON Schema when it is stored, so that applying it to data later
 * cannot fail or run away: every subschema the validator can reach has a
 * usable shape, every `pattern` and `patternProperties` key compiles on the
 * engine that will run it, every `$ref` resolves (as @cfworker/json-schema
 * resolves it: its own `dereference`), and no chain of subschemas applied to
 * the same value leads back to itself (the validator would recurse without
 * end) or fans out past a bound.
 */

const TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"];
/** Nesting of subschemas, as written. */
const MAX_DEPTH = 32;
/** All of a schema's patterns together: bounds compiling them, when stored and when a publish finds them uncached. */
export const MAX_SCHEMA_PATTERN_PROGRAM = 5000;
/** Subschemas applied to one value without descending into it (allOf, $ref, ... and what they apply). */
export const MAX_IN_PLACE = 1000;

// What each applicator applies its subschemas to: the same value ("in place"), or parts of it.
const IN_PLACE_ONE = ["not", "if", "then", "else"];
const IN_PLACE_LIST = ["allOf", "anyOf", "oneOf"];
const DESCEND_ONE = ["additionalProperties", "unevaluatedProperties", "propertyNames", "contains", "additionalItems", "unevaluatedItems"];
const DESCEND_MAP = ["properties", "patternProperties"];
// Applied only through a $ref, but checked like the rest.
const DEFINITIONS = ["$defs", "definitions"];

type SchemaObject = Record<string, unknown>;
type Edge = { to: SchemaObject; site: string };

const isObject = (v: unknown): v is SchemaObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems with `schema`, each naming its path under `path` (empty when it is safe to store). */
export function schemaProblems(schema: unknown, path = "schema"): FieldError[] {
  if (!isObject(schema)) return [{ path, message: "must be a JSON Schema object" }];
  let lookup: Record<string, unknown>;
  try {
    lookup = dereference(schema as Schema);
  } catch (e) {
    return [{ path, message: `is not usable: ${(e as Error).message}` }];
  }
  const walk = new SchemaWalk(schema, lookup, writtenPaths(schema, path));
  walk.run();
  if (walk.problems.length === 0) walk.checkRecursion();
  return walk.problems;
}

/**
 * Where each object of the schema is written, walked the way `dereference`
 * walks it (so every schema a $ref can reach has its path), for messages.
 */
function writtenPaths(root: SchemaObject, rootPath: string): Map<SchemaObject, string> {
  const out = new Map<SchemaObject, string>();
  const walk = (node: SchemaObject, path: string) => {
    out.set(node, path);
    for (const [key, value] of Object.entries(node)) {
      if (ignoredKeyword[key]) continue;
      if (Array.isArray(value)) {
        if (!schemaArrayKeyword[key]) continue;
        for (const [i, v] of value.entries()) if (isObject(v)) walk(v, `${path}.${key}.${i}`);
      } else if (schemaMapKeyword[key] && isObject(value)) {
        for (const [name, v] of Object.entries(value)) if (isObject(v)) walk(v, `${path}.${key}.${name}`);
      } else if (isObject(value)) {
        walk(value, `${path}.${key}`);
      }
    }
  };
  walk(root, rootPath);
  return out;
}

class SchemaWalk {
  readonly problems: FieldError[] = [];
  private readonly edges = new Map<SchemaObject, Edge[]>();
  private readonly paths = new Map<SchemaObject, string>();
  private readonly queue: { node: SchemaObject; depth: number }[] = [];
  private readonly recursiveAnchors: SchemaObject[] = [];
  private readonly recursiveRefs: { from: SchemaObject; site: string }[] = [];
  private patternProgram = 0;

  constructor(
    private readonly root: SchemaObject,
    private readonly lookup: Record<string, unknown>,
    private readonly written: Map<SchemaObject, string>,
  ) {
    this.enqueue(root, written.get(root)!, 0);
  }

  run(): void {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) this.visit(item.node, item.depth);
    // `$recursiveRef: "#"` goes to the outermost schema with `$recursiveAnchor`, or the root: assume any of them.
    for (const { from, site } of this.recursiveRefs) {
      for (const to of [this.root, ...this.recursiveAnchors]) this.edge(from, to, site);
    }
  }

  private problem(path: string, message: string, allowed?: string[]): void {
    this.problems.push({ path, message, ...(allowed && { allowed }) });
  }

  private enqueue(node: SchemaObject, path: string, depth: number): void {
    if (this.paths.has(node)) return;
    this.paths.set(node, path);
    this.edges.set(node, []);
    this.queue.push({ node, depth });
  }

  /** A subschema at `path`: queued when it is an object; null for booleans and for what is not a schema. */
  private sub(value: unknown, path: string, depth: number): SchemaObject | null {
    if (typeof value === "boolean") return null;
    if (!isObject(value)) {
      this.problem(path, "must be a JSON Schema (an object or a boolean)");
      return null;
    }
    if (depth > MAX_DEPTH) {
      this.problem(path, "is nested too deeply");
      return null;
    }
    this.enqueue(value, path, depth);
    return value;
  }

  private edge(from: SchemaObject, to: SchemaObject | null, site: string): void {
    if (to) this.edges.get(from)!.push({ to, site });
  }

  private list(node: SchemaObject, key: string, path: string): unknown[] {
    const value = node[key];
    if (Array.isArray(value)) return value;
    this.problem(`${path}.${key}`, "must be an array of schemas");
    return [];
  }

  private map(node: SchemaObject, key: string, path: string): [string, unknown][] {
    const value = node[key];
    if (isObject(value)) return Object.entries(value);
    this.problem(`${path}.${key}`, "must be an object of schemas");
    return [];
  }

  private visit(node: SchemaObject, depth: number): void {
    const path = this.paths.get(node)!;
    const next = depth + 1;
    this.checkKeywords(node, path);
    for (const key of IN_PLACE_ONE) if (key in node) this.edge(node, this.sub(node[key], `${path}.${key}`, next), `${path}.${key}`);
    for (const key of IN_PLACE_LIST) {
      if (!(key in node)) continue;
      this.list(node, key, path).forEach((child, i) => {
        this.edge(node, this.sub(child, `${path}.${key}.${i}`, next), `${path}.${key}.${i}`);
      });
    }
    if ("dependentSchemas" in node) {
      for (const [name, child] of this.map(node, "dependentSchemas", path)) {
        const at = `${path}.dependentSchemas.${name}`;
        this.edge(node, this.sub(child, at, next), at);
      }
    }
    if ("dependencies" in node) {
      for (const [name, child] of this.map(node, "dependencies", path)) {
        const at = `${path}.dependencies.${name}`;
        if (Array.isArray(child)) {
          if (!child.every((c) => typeof c === "string")) this.problem(at, "must be an array of property names or a schema");
        } else this.edge(node, this.sub(child, at, next), at);
      }
    }
    if ("items" in node) {
      if (Array.isArray(node.items)) for (const [i, child] of node.items.entries()) this.sub(child, `${path}.items.${i}`, next);
      else this.sub(node.items, `${path}.items`, next);
    }
    if ("prefixItems" in node) {
      for (const [i, child] of this.list(node, "prefixItems", path).entries()) this.sub(child, `${path}.prefixItems.${i}`, next);
    }
    for (const key of DESCEND_ONE) if (key in node) this.sub(node[key], `${path}.${key}`, next);
    for (const key of [...DESCEND_MAP, ...DEFINITIONS]) {
      if (!(key in node)) continue;
      for (const [name, child] of this.map(node, key, path)) {
        if (key === "patternProperties") this.pattern(name, `${path}.patternProperties.${name}`);
        this.sub(child, `${path}.${key}.${name}`, next);
      }
    }
    if ("$ref" in node) this.ref(node, path, next);
    if (node.$recursiveAnchor === true) this.recursiveAnchors.push(node);
    if (node.$recursiveRef === "#") this.recursiveRefs.push({ from: node, site: `${path}.$recursiveRef` });
  }

  private checkKeywords(node: SchemaObject, path: string): void {
    if ("type" in node) {
      const types = Array.isArray(node.type) ? node.type : [node.type];
      if (types.some((t) => typeof t !== "string" || !TYPES.includes(t))) this.problem(`${path}.type`, "must be a JSON Schema type", TYPES);
    }
    if ("required" in node && !(Array.isArray(node.required) && node.required.every((r) => typeof r === "string"))) {
      this.problem(`${path}.required`, "must be an array of property names");
    }
    if ("enum" in node && !Array.isArray(node.enum)) this.problem(`${path}.enum`, "must be an array");
    if ("pattern" in node) {
      if (typeof node.pattern === "string") this.pattern(node.pattern, `${path}.pattern`);
      else this.problem(`${path}.pattern`, "must be a string");
    }
  }

  private pattern(source: string, path: string): void {
    if (this.patternProgram > MAX_SCHEMA_PATTERN_PROGRAM) return;
    try {
      this.patternProgram += compileLinearPattern(source).size;
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      this.problem(path, e.message);
      return;
    }
    if (this.patternProgram > MAX_SCHEMA_PATTERN_PROGRAM) {
      this.problem(path, `brings the schema's patterns to more than ${MAX_SCHEMA_PATTERN_PROGRAM} compiled instructions; simplify them`);
    }
  }

  /** A $ref is applied in place: resolved exactly as the validator resolves it, or refused. */
  private ref(node: SchemaObject, path: string, depth: number): void {
    const ref = node.$ref;
    const at = `${path}.$ref`;
    if (typeof ref !== "string" || !ref.startsWith("#")) {
      this.problem(at, "only local references (#/...) are supported");
      return;
    }
    const absolute = (node as { __absolute_ref__?: string }).__absolute_ref__;
    const target = this.lookup[absolute || ref];
    if (target === undefined) {
      this.problem(at, `cannot be resolved: this schema has nothing at ${ref}`);
      return;
    }
    if (isObject(target)) {
      // Usually reached where it is written too; not when it sits under a keyword the validator never applies.
      this.enqueue(target, this.written.get(target) ?? at, depth);
      this.edge(node, target, at);
    }
  }

  /**
   * Refuses a cycle of in-place applications (the validator would recurse
   * until the stack overflows), naming the subschema that closes it, and a
   * fan-out past MAX_IN_PLACE (each value would be checked that many times).
   */
  checkRecursion(): void {
    const state = new Map<SchemaObject, "open" | number>();
    for (const start of this.edges.keys()) {
      if (state.has(start)) continue;
      const stack: { node: SchemaObject; next: number }[] = [{ node: start, next: 0 }];
      state.set(start, "open");
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const out = this.edges.get(top.node)!;
        const edge = out[top.next++];
        if (edge) {
          const seen = state.get(edge.to);
          if (seen === "open") {
            this.problem(
              edge.site,
              "leads back to a schema already being applied to the same value: the validator would recurse without end",
            );
            return;
          }
          if (seen === undefined) {
            state.set(edge.to, "open");
            stack.push({ node: edge.to, next: 0 });
          }
          continue;
        }
        stack.pop();
        const total = out.reduce((sum, e) => sum + (state.get(e.to) as number), 1);
        state.set(top.node, Math.min(total, MAX_IN_PLACE + 1));
        if (total > MAX_IN_PLACE) {
          this.problem(
            this.paths.get(top.node)!,
            `applies more than ${MAX_IN_PLACE} subschemas to one value (allOf, anyOf, oneOf, $ref, ...)`,
          );
          return;
        }
      }
    }
  }
}
