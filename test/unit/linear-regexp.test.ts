import { describe, expect, it } from "vitest";
import { compileLinearPattern, PatternBudgetError, PatternError, withLinearPatterns } from "../../src/lib/linear-regexp";

const native = RegExp;
/**
 * `new RegExp` through the global, as the JSON Schema library calls it. (A
 * literal would never reach the stand-in: literals do not read the global.)
 */
const regexp = (source: string, flags = "u") => new RegExp(source, flags);

describe("withLinearPatterns", () => {
  it("swaps RegExp only for the call, and restores it when the call throws", () => {
    let inside: unknown;
    withLinearPatterns(() => {
      inside = globalThis.RegExp;
    });
    expect(inside).not.toBe(native);
    expect(globalThis.RegExp).toBe(native);
    expect(() =>
      withLinearPatterns(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(globalThis.RegExp).toBe(native);
    expect(regexp("^a$")).toBeInstanceOf(native);
  });

  it("the stand-in matches unanchored, like RegExp.prototype.test, on RE2", () => {
    const results = withLinearPatterns(() => {
      const re = regexp("b+");
      return [re.test("abbbc"), re.test("ac"), regexp("^a$").test("a\n")];
    });
    expect(results).toEqual([true, false, false]);
  });

  it("checks syntax with the real RegExp at construction (what format: regex asks)", () => {
    expect(() => withLinearPatterns(() => regexp("("))).toThrow(SyntaxError);
    // Valid ECMAScript though RE2 cannot run it: constructing is fine, matching is refused.
    const re = withLinearPatterns(() => regexp("(?=a)"));
    expect(re).toBeDefined();
    expect(() => withLinearPatterns(() => regexp("(?=a)").test("a"))).toThrow(PatternError);
  });

  it("leaves regular expression literals alone", () => {
    const matched = withLinearPatterns(() => /^(?=a)a$/.test("a") && "x-y".split(/-/).length === 2);
    expect(matched).toBe(true);
  });

  it("runs ^(a+)+$ against a 256 KiB hostile string in linear time", () => {
    const hostile = `${"a".repeat(256 * 1024 - 1)}!`;
    const started = Date.now();
    const matched = withLinearPatterns(() => regexp("^(a+)+$").test(hostile));
    expect(matched).toBe(false);
    // Catastrophic backtracking would take longer than the universe; this is generous.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("charges (length + 1) × program size and refuses past the budget", () => {
    const program = compileLinearPattern("^[ab]+$").size;
    const input = "ab".repeat(50);
    const cost = (input.length + 1) * program;
    expect(withLinearPatterns(() => regexp("^[ab]+$").test(input), cost)).toBe(true);
    expect(() => withLinearPatterns(() => regexp("^[ab]+$").test(input), cost - 1)).toThrow(PatternBudgetError);
    // The budget is per call, across every test made in it.
    const twice = () => {
      const re = regexp("^[ab]+$");
      return re.test(input) && re.test(input);
    };
    expect(() => withLinearPatterns(twice, cost * 2 - 1)).toThrow(PatternBudgetError);
    expect(withLinearPatterns(twice, cost * 2)).toBe(true);
  });
});

describe("compileLinearPattern", () => {
  it("refuses what RE2 cannot run, and caches the refusal", () => {
    for (const p of ["(?=a)", "(?!a)", "(?<=a)", "(?<!a)", "(a)\\1", "(?<n>a)\\k<n>", "a{1001}", "x{999}y{999}"]) {
      expect(() => compileLinearPattern(p), p).toThrow(PatternError);
      expect(() => compileLinearPattern(p), p).toThrow(PatternError);
    }
  });

  it("does not mistake escaped or bracketed lookalikes for lookarounds", () => {
    for (const p of ["\\(?=", "[(?=]", "[\\]](?:x)", "\\\\1"]) expect(() => compileLinearPattern(p), p).not.toThrow();
  });

  it("translates ECMAScript syntax RE2 spells differently", () => {
    expect(compileLinearPattern("^\\u0041\\u{1F600}$").test("A😀")).toBe(true);
    expect(compileLinearPattern("^(?<y>\\d{4})$").test("2024")).toBe(true);
  });
});
