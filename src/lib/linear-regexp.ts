import { RE2JS, RE2Set } from "re2js";
import { TtlCache } from "./ttl-cache";

/**
 * JSON Schema `pattern`s run on RE2 (re2js), whose matching time is linear
 * in the input, instead of V8's backtracking engine, on which a pattern
 * such as `^(a+)+$` takes exponential time. Linear is not free: RE2's cost
 * is about (input length × program size), so a pattern's program is capped
 * when it is stored and every validation gets a budget of that product.
 *
 * Each pattern is compiled as a one-pattern RE2Set, the only public way to
 * bound the memory of RE2's lazy DFA: RE2JS.compile gives every pattern an
 * 8 MB DFA cache that lives as long as the compiled pattern does, and
 * compiled patterns are cached here. Past the bound RE2 falls back to its
 * NFA, which is slower but still linear, and the budget covers it.
 */

/** The largest program one pattern may compile to (RE2 instructions; `a{1000}` is about 1000). */
export const MAX_PATTERN_PROGRAM = 1000;

/**
 * What one validation may spend on matching, in characters tested ×
 * program size. Measured in workerd, the worst case (a pattern that defeats
 * the DFA, so RE2 runs its NFA) is about 14 ns per unit: ~35 ms.
 */
export const PATTERN_WORK_BUDGET = 2_500_000;

/** DFA memory one compiled pattern may keep: the cache below holds at most 256 × this. */
const DFA_MEMORY = 64 * 1024;

/** A compiled pattern: `size` is its program size, what matching costs per character. */
export type LinearPattern = { readonly size: number; test(input: string): boolean };

/** A pattern that cannot be stored or run; `message` says why, for a field error. */
export class PatternError extends Error {
  override name = "PatternError";
}

/** A validation that would spend more than its pattern budget. */
export class PatternBudgetError extends Error {
  override name = "PatternBudgetError";
}

// Taken before anything can swap the global: the shim below needs the real one.
const NativeRegExp = RegExp;

// Compiled patterns by source, and the refusals too, so a bad stored pattern fails fast every time.
const compiled = new TtlCache<LinearPattern | PatternError>(10 * 60_000, 256);

/**
 * The pattern compiled for RE2, or a PatternError saying why it cannot be:
 * not an ECMAScript regular expression (what JSON Schema patterns are), a
 * construct RE2 cannot run in linear time, or a program over the cap.
 */
export function compileLinearPattern(source: string): LinearPattern {
  let result = compiled.get(source);
  if (result === undefined) {
    result = compileUncached(source);
    compiled.set(source, result);
  }
  if (result instanceof PatternError) throw result;
  return result;
}

function compileUncached(source: string): LinearPattern | PatternError {
  try {
    new NativeRegExp(source, "u");
  } catch (e) {
    return new PatternError(`is not a valid regular expression: ${(e as Error).message}`);
  }
  const unsupported = backtrackingConstruct(source);
  if (unsupported) {
    return new PatternError(`uses a ${unsupported}, which patterns cannot use: they run on a linear-time engine (RE2)`);
  }
  const set = new RE2Set(RE2Set.UNANCHORED, 0, DFA_MEMORY);
  try {
    set.add(RE2JS.translateRegExp(source));
    set.compile();
  } catch (e) {
    return new PatternError(`cannot run on the linear-time engine (RE2): ${(e as Error).message}`);
  }
  const size = set.prog.numInst();
  if (size > MAX_PATTERN_PROGRAM)
    return new PatternError(`is too complex: it compiles to ${size} instructions, more than ${MAX_PATTERN_PROGRAM}`);
  // Unanchored, like RegExp.prototype.test: the one pattern matches anywhere in the input.
  return { size, test: (input) => set.match(input).length > 0 };
}

/**
 * Lookarounds and backreferences, which RE2 leaves out because they need
 * backtracking. The source is already a valid `u`-mode ECMAScript pattern,
 * where `\1`-`\9` and `\k` can only be backreferences.
 */
function backtrackingConstruct(source: string): string | null {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") {
      const next = source[i + 1] ?? "";
      if (!inClass && ((next >= "1" && next <= "9") || next === "k")) return "backreference";
      i++;
    } else if (inClass) {
      if (ch === "]") inClass = false;
    } else if (ch === "[") {
      inClass = true;
    } else if (source.startsWith("(?=", i) || source.startsWith("(?!", i)) {
      return "lookahead";
    } else if (source.startsWith("(?<=", i) || source.startsWith("(?<!", i)) {
      return "lookbehind";
    }
  }
  return null;
}

/**
 * Runs `validate` with `globalThis.RegExp` replaced by a stand-in that the
 * JSON Schema library cannot tell apart: it only ever does
 * `new RegExp(source, "u")` and then `.test(string)` (for `pattern` and
 * `patternProperties`), or constructs one just to see whether it throws (the
 * `regex` format). The stand-in checks the syntax with the real RegExp
 * (parsing, which is linear, never matching) and matches with RE2, charging
 * the budget. Swapping a global is safe here because `validate` is
 * synchronous: no other code of this isolate runs until it returns, and the
 * `finally` restores the real RegExp before anything else can see it.
 * Regular expression literals, in the library and anywhere else, never read
 * the global, so they are unaffected.
 */
export function withLinearPatterns<T>(validate: () => T, budget = PATTERN_WORK_BUDGET): T {
  let left = budget;
  // Each pattern compiles at most once per validation, however many strings it tests and whatever the cache evicts.
  const used = new Map<string, LinearPattern>();
  const patternFor = (source: string) => {
    let pattern = used.get(source);
    if (!pattern) {
      pattern = compileLinearPattern(source);
      used.set(source, pattern);
    }
    return pattern;
  };
  function LinearRegExp(source: unknown, flags?: string) {
    const text = String(source);
    // A pattern compiled in this validation has passed this check already.
    if (!used.has(text)) new NativeRegExp(text, flags);
    return {
      test(input: unknown): boolean {
        const subject = String(input);
        const re = patternFor(text);
        left -= (subject.length + 1) * re.size;
        if (left < 0) throw new PatternBudgetError("matching the schema's patterns against this data would take too long");
        return re.test(subject);
      },
    };
  }
  const saved = globalThis.RegExp;
  globalThis.RegExp = LinearRegExp as unknown as RegExpConstructor;
  try {
    return validate();
  } finally {
    globalThis.RegExp = saved;
  }
}
