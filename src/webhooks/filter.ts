import type { FieldError } from "../lib/errors";

/**
 * Payload filters: a JSON object matched against `{type, data}` of each
 * event; only matching events create deliveries. A plain value matches by
 * equality (an object recursively, an array by containment: every element
 * of the filter's array is in the event's); an object whose keys are
 * operators compares the value; `$or`, `$and`, `$not` combine filters.
 */
export const FILTER_OPERATORS = [
  "$eq",
  "$neq",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$startsWith",
  "$endsWith",
  "$exist",
  "$or",
  "$and",
  "$not",
] as const;

type Operator = (typeof FILTER_OPERATORS)[number];
const OPERATORS: ReadonlySet<string> = new Set(FILTER_OPERATORS);
const COMBINATORS = new Set(["$or", "$and", "$not"]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isOperatorObject = (v: unknown): v is Record<string, unknown> =>
  isObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith("$"));

/** Deep equality of JSON values. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

/** Numbers compare as numbers, strings as strings; anything else (or a mix) never compares. */
function compare(a: unknown, b: unknown): number | null {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/** Does `value` (possibly absent: `present` false) satisfy one operator? */
function applyOperator(op: Operator, arg: unknown, value: unknown, present: boolean): boolean {
  switch (op) {
    case "$eq":
      return present && equal(value, arg);
    case "$neq":
      return !present || !equal(value, arg);
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      const c = present ? compare(value, arg) : null;
      if (c === null) return false;
      return op === "$gt" ? c > 0 : op === "$gte" ? c >= 0 : op === "$lt" ? c < 0 : c <= 0;
    }
    case "$in":
      return present && Array.isArray(arg) && arg.some((a) => equal(value, a));
    case "$nin":
      return !present || (Array.isArray(arg) && !arg.some((a) => equal(value, a)));
    case "$startsWith":
      return present && typeof value === "string" && typeof arg === "string" && value.startsWith(arg);
    case "$endsWith":
      return present && typeof value === "string" && typeof arg === "string" && value.endsWith(arg);
    case "$exist":
      return present === (arg === true);
    case "$or":
      return Array.isArray(arg) && arg.some((f) => matchValue(f, value, present));
    case "$and":
      return Array.isArray(arg) && arg.every((f) => matchValue(f, value, present));
    case "$not":
      return !matchValue(arg, value, present);
  }
}

/** Matches one filter node against a value at the same place of the event. */
function matchValue(filter: unknown, value: unknown, present: boolean): boolean {
  if (isOperatorObject(filter)) {
    return Object.entries(filter).every(([op, arg]) => applyOperator(op as Operator, arg, value, present));
  }
  if (isObject(filter)) {
    if (!present || !isObject(value)) return false;
    return Object.entries(filter).every(([key, sub]) => matchValue(sub, value[key], Object.hasOwn(value, key)));
  }
  if (Array.isArray(filter)) {
    if (!present || !Array.isArray(value)) return false;
    return filter.every((wanted) => value.some((v) => (isObject(wanted) ? matchValue(wanted, v, true) : equal(v, wanted))));
  }
  return present && equal(value, filter);
}

/** True when the event `{type, data}` matches `filter` (null: every event). */
export function matchesFilter(filter: Record<string, unknown> | null | undefined, event: { type: string; data: unknown }): boolean {
  if (!filter) return true;
  return matchValue(filter, event, true);
}

const MAX_FILTER_DEPTH = 16;

/** Problems with a filter itself, named by path (an unknown operator lists the valid ones). */
export function filterProblems(filter: unknown, path = "filter", depth = 0): FieldError[] {
  if (depth > MAX_FILTER_DEPTH) return [{ path, message: `nests deeper than ${MAX_FILTER_DEPTH} levels` }];
  if (Array.isArray(filter)) return filter.flatMap((f, i) => filterProblems(f, `${path}.${i}`, depth + 1));
  if (!isObject(filter)) return [];
  const out: FieldError[] = [];
  const keys = Object.keys(filter);
  if (keys.some((k) => k.startsWith("$")) && keys.some((k) => !k.startsWith("$"))) {
    return [{ path, message: "mixes operators ($...) and field names in one object; nest them instead" }];
  }
  for (const [key, arg] of Object.entries(filter)) {
    const at = `${path}.${key}`;
    if (!key.startsWith("$")) {
      out.push(...filterProblems(arg, at, depth + 1));
      continue;
    }
    if (!OPERATORS.has(key)) {
      out.push({ path: at, message: `${key} is not a filter operator`, allowed: FILTER_OPERATORS });
      continue;
    }
    if ((key === "$or" || key === "$and") && (!Array.isArray(arg) || arg.length === 0)) {
      out.push({ path: at, message: `${key} takes a non-empty array of filters` });
    } else if ((key === "$in" || key === "$nin") && !Array.isArray(arg)) {
      out.push({ path: at, message: `${key} takes an array of values` });
    } else if ((key === "$startsWith" || key === "$endsWith") && typeof arg !== "string") {
      out.push({ path: at, message: `${key} takes a string` });
    } else if (key === "$exist" && typeof arg !== "boolean") {
      out.push({ path: at, message: "$exist takes true or false" });
    } else if (["$gt", "$gte", "$lt", "$lte"].includes(key) && typeof arg !== "number" && typeof arg !== "string") {
      out.push({ path: at, message: `${key} takes a number or a string` });
    }
    if (COMBINATORS.has(key)) out.push(...filterProblems(arg, at, depth + 1));
  }
  return out;
}
