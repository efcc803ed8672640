import { type Schema, Validator } from "@cfworker/json-schema";
import type { FieldError } from "./errors";
import { PatternBudgetError, withLinearPatterns } from "./linear-regexp";
import { TtlCache } from "./ttl-cache";

/**
 * JSON Schema validation with @cfworker/json-schema: it interprets schemas
 * instead of compiling them to code, so it works in workerd, where `eval`
 * and `new Function` are forbidden. Its patterns run on RE2 (see
 * linear-regexp.ts); schemas are checked when stored (schema-check.ts).
 */
export { schemaProblems } from "./schema-check";

// Parsed validators by schema text: publishing the same type repeatedly reuses one.
const validators = new TtlCache<Validator>(60_000, 500);

/**
 * Validates `data` against `schema`; returns field errors under `data.`.
 * Never throws: a schema the validator cannot apply (one stored before the
 * checks it now gets, say), a pattern budget spent, or any other failure
 * inside the validator is a field error too, so a publish answers 422 and
 * never 500.
 */
export function validateAgainstSchema(schema: Record<string, unknown>, data: unknown): FieldError[] {
  let result: ReturnType<Validator["validate"]>;
  try {
    const validator = validatorFor(schema);
    result = withLinearPatterns(() => validator.validate(data));
  } catch (e) {
    if (e instanceof PatternBudgetError) {
      return [{ path: "data", message: `${e.message}: shorten the long strings or simplify the event type's patterns` }];
    }
    // The first line only: the library's messages can list every schema URI it knows.
    const reason = String((e as Error)?.message ?? e)
      .split("\n")[0]!
      .slice(0, 200);
    return [{ path: "data", message: `could not be checked against the event type's schema: ${reason}` }];
  }
  return fieldErrors(result);
}

function validatorFor(schema: Record<string, unknown>): Validator {
  const text = JSON.stringify(schema);
  let validator = validators.get(text);
  if (!validator) {
    validator = new Validator(schema as Schema, "2020-12", false);
    validators.set(text, validator);
  }
  return validator;
}

function fieldErrors(result: ReturnType<Validator["validate"]>): FieldError[] {
  if (result.valid) return [];
  // The leaf errors say what is wrong; the wrappers ("properties", "allOf") only repeat them.
  const leaves = result.errors.filter((e) => !["properties", "patternProperties", "allOf", "anyOf", "items", "$ref"].includes(e.keyword));
  return (leaves.length ? leaves : result.errors).slice(0, 20).map((e) => ({
    path: `data${e.instanceLocation.replace(/^#/, "").replaceAll("/", ".")}`,
    message: e.error,
  }));
}
