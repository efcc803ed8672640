import { DomainError, type FieldError } from "../lib/errors";

/**
 * Mapping templates: any JSON value whose strings may hold placeholders
 * `{{trigger.<path>}}` (the parsed body; `items.0.id` indexes arrays),
 * `{{headers.<name>}}` and `{{query.<name>}}`. A string that is exactly one
 * placeholder takes the value with its JSON type; inside longer text the
 * value is written as text (JSON for objects and arrays); a missing path is
 * null. Nothing here runs code: Workers forbid `eval`, and a template
 * language can do no more than it says.
 */
export type TemplateContext = { trigger: unknown; headers: Headers; query: URLSearchParams };

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const EXPRESSION = /^(trigger|headers|query)(?:\.([^\s{}]+))?$/;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

/** The value one placeholder expression stands for; undefined when the path is missing. */
function lookup(expression: string, ctx: TemplateContext): unknown {
  const [, root, path] = EXPRESSION.exec(expression) ?? [];
  if (root === "headers") return path ? (ctx.headers.get(path) ?? undefined) : undefined;
  if (root === "query") return path ? (ctx.query.get(path) ?? undefined) : undefined;
  let value: unknown = ctx.trigger;
  if (!path) return value;
  for (const segment of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(segment)) return undefined;
      value = value[Number(segment)];
    } else {
      if (!Object.hasOwn(value, segment)) return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
  }
  return value;
}

/** Mapped data may hold at most this much JSON, as an event's data may. */
export const MAX_MAPPED_CHARS = 256 * 1024;

/**
 * What a render has placed so far. A mapping may name the body many times
 * (`{"a": "{{trigger}}", "b": "{{trigger}}", ...}`), so the placed values are
 * counted as they are placed (each value's JSON measured once) and the render
 * stops as soon as the total passes the limit, before building anything big.
 */
type Budget = { left: number; texts: Map<unknown, string> };
const newBudget = (): Budget => ({ left: MAX_MAPPED_CHARS, texts: new Map() });

function place(value: unknown, budget: Budget | undefined): string {
  let text = budget?.texts.get(value);
  if (text === undefined) {
    text = typeof value === "string" ? value : JSON.stringify(value ?? null);
    budget?.texts.set(value, text);
  }
  if (budget) {
    budget.left -= text.length;
    if (budget.left < 0) throw new DomainError("payload_too_large", `The mapped data is over ${MAX_MAPPED_CHARS / 1024} KiB`);
  }
  return text;
}

/** Renders one string: a lone placeholder keeps its type, placeholders inside text become text. */
export function renderString(template: string, ctx: TemplateContext, budget?: Budget): unknown {
  const whole = WHOLE.exec(template);
  if (whole) {
    const value = lookup(whole[1]!, ctx) ?? null;
    if (budget) place(value, budget);
    return value;
  }
  return template.replace(PLACEHOLDER, (_, expression: string) => place(lookup(expression, ctx) ?? null, budget));
}

/** Renders a mapping (any JSON value); keys are taken as written. Over MAX_MAPPED_CHARS: 413. */
export function renderMapping(mapping: unknown, ctx: TemplateContext, budget: Budget = newBudget()): unknown {
  if (typeof mapping === "string") return renderString(mapping, ctx, budget);
  if (Array.isArray(mapping)) return mapping.map((m) => renderMapping(m, ctx, budget));
  if (mapping !== null && typeof mapping === "object") {
    return Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, renderMapping(v, ctx, budget)]));
  }
  return mapping;
}

/** Problems with the placeholders of a template value (validated when a source is stored). */
export function templateProblems(value: unknown, path: string): FieldError[] {
  if (typeof value === "string") {
    const out: FieldError[] = [];
    for (const [, expression] of value.matchAll(PLACEHOLDER)) {
      if (!EXPRESSION.test(expression!)) {
        out.push({
          path,
          message: `{{${expression}}} is not a placeholder: use {{trigger.<path>}}, {{headers.<name>}} or {{query.<name>}}`,
        });
      }
    }
    return out;
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateProblems(v, `${path}.${i}`));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => templateProblems(v, `${path}.${k}`));
  return [];
}

/** True when `value` (a string) has at least one placeholder. */
export const isTemplate = (value: string) => value.match(PLACEHOLDER) !== null;
