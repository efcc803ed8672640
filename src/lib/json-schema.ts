import { type Schema, Validator } from "@cfworker/json-schema";
import type { FieldError } from "./errors";
import { TtlCache } from "./ttl-cache";

/**
 * JSON Schema validation with @cfworker/json-schema: it interprets schemas
 * instead of compiling them to code, so it works in workerd, where `eval`
 * and `new Function` are forbidden.
 */
const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
const MAX_DEPTH = 32;

/** Structural problems with a schema itself (empty when it is usable). */
export function schemaProblems(schema: unknown, path = "schema", depth = 0): FieldError[] {
  if (depth > MAX_DEPTH) return [{ path, message: "is nested too deeply" }];
  if (typeof schema === "boolean") return [];
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    return [{ path, message: "must be a JSON Schema object" }];
  }
  const s = schema as Record<string, unknown>;
  const out: FieldError[] = [];
  if ("type" in s) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    for (const t of types) {
      if (typeof t !== "string" || !TYPES.has(t)) {
        out.push({ path: `${path}.type`, message: "must be a JSON Schema type", allowed: [...TYPES] });
      }
    }
  }
  if ("required" in s && !(Array.isArray(s.required) && s.required.every((r) => typeof r === "string"))) {
    out.push({ path: `${path}.required`, message: "must be an array of property names" });
  }
  if ("$ref" in s && (typeof s.$ref !== "string" || !s.$ref.startsWith("#"))) {
    out.push({ path: `${path}.$ref`, message: "only local references (#/...) are supported" });
  }
  for (const key of ["properties", "patternProperties", "$defs", "definitions"]) {
    const sub = s[key];
    if (sub === undefined) continue;
    if (sub === null || typeof sub !== "object" || Array.isArray(sub)) {
      out.push({ path: `${path}.${key}`, message: "must be an object of schemas" });
      continue;
    }
    for (const [name, child] of Object.entries(sub)) out.push(...schemaProblems(child, `${path}.${key}.${name}`, depth + 1));
  }
  for (const key of ["items", "additionalProperties", "not", "contains", "propertyNames"]) {
    if (s[key] !== undefined && !Array.isArray(s[key])) out.push(...schemaProblems(s[key], `${path}.${key}`, depth + 1));
  }
  for (const key of ["allOf", "anyOf", "oneOf", "prefixItems"]) {
    const list = s[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) out.push({ path: `${path}.${key}`, message: "must be an array of schemas" });
    else
      list.forEach((child, i) => {
        out.push(...schemaProblems(child, `${path}.${key}.${i}`, depth + 1));
      });
  }
  if (out.length === 0) {
    try {
      new Validator(schema as Schema, "2020-12").validate(null);
    } catch (e) {
      out.push({ path, message: `is not usable: ${(e as Error).message}` });
    }
  }
  return out;
}

// Parsed validators by schema text: publishing the same type repeatedly reuses one.
const validators = new TtlCache<Validator>(60_000, 500);

/** Validates `data` against `schema`; returns field errors under `data.`. */
export function validateAgainstSchema(schema: Record<string, unknown>, data: unknown): FieldError[] {
  const text = JSON.stringify(schema);
  let validator = validators.get(text);
  if (!validator) {
    validator = new Validator(schema as Schema, "2020-12", false);
    validators.set(text, validator);
  }
  const result = validator.validate(data);
  if (result.valid) return [];
  // The leaf errors say what is wrong; the wrappers ("properties", "allOf") only repeat them.
  const leaves = result.errors.filter((e) => !["properties", "allOf", "anyOf", "items", "$ref"].includes(e.keyword));
  return (leaves.length ? leaves : result.errors).slice(0, 20).map((e) => ({
    path: `data${e.instanceLocation.replace(/^#/, "").replaceAll("/", ".")}`,
    message: e.error,
  }));
}
