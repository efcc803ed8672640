import { applyPatch, JsonPatchError, type Operation, validate } from "fast-json-patch";
import { PATCH_OPS } from "../common/enums";
import type { FieldError } from "./errors";

/**
 * RFC 6902 JSON Patch, through fast-json-patch: checked when a patch is
 * stored (so a bad one is a 422 naming its operation, never a failure
 * later), and applied to a copy, so a patch that fails half-way leaves
 * nothing half-changed behind.
 */

// RFC 6902's operations (the library also knows a private `_get`, refused here).
export { PATCH_OPS };

/** An operation as it arrives (its `op` not yet checked) or as stored. */
export type PatchOp = { op: string; path: string; from?: string; value?: unknown };

// A JSON Pointer (RFC 6901): "" or "/"-separated tokens, where "~" only escapes as ~0 or ~1.
const POINTER = /^(\/([^~]|~[01])*)*$/;

/** What is wrong with `patch`, each problem at `<path>.<index>` of its operation; empty when it is usable. */
export function patchProblems(patch: readonly PatchOp[], path: string): FieldError[] {
  const problems: FieldError[] = [];
  patch.forEach((operation, i) => {
    const at = `${path}.${i}`;
    if (!(PATCH_OPS as readonly string[]).includes(operation.op)) {
      problems.push({ path: at, message: `operation ${i}: op must be one of: ${PATCH_OPS.join(", ")}`, allowed: PATCH_OPS });
      return;
    }
    for (const field of ["path", "from"] as const) {
      const pointer = operation[field];
      if (typeof pointer === "string" && !POINTER.test(pointer)) {
        problems.push({ path: at, message: `operation ${i} (${operation.op}): ${field} "${pointer}" is not a JSON Pointer (RFC 6901)` });
      }
    }
  });
  if (problems.length > 0) return problems;
  const error = validate(patch as Operation[]);
  if (error) {
    const i = error.index ?? 0;
    problems.push({ path: `${path}.${i}`, message: `operation ${i} (${patch[i]?.op ?? "?"}): ${firstLine(error.message)}` });
  }
  return problems;
}

const firstLine = (message: string) => message.split("\n")[0] || "does not apply";

export type PatchOutcome = { ok: true; result: unknown } | { ok: false; index: number; message: string };

/**
 * `patch` applied to a copy of `document`. A failing operation (a path that
 * is not there, a failed `test`) answers which one and why; `document` is
 * never changed either way.
 */
export function applyJsonPatch(document: unknown, patch: readonly PatchOp[]): PatchOutcome {
  try {
    // The library inserts an operation's value by reference and may change it later in the same patch: each
    // application gets its own copy, so a stored (cached) patch stays as it was written.
    const { newDocument } = applyPatch(document, structuredClone(patch) as Operation[], true, false);
    return { ok: true, result: newDocument };
  } catch (err) {
    // Its message goes on with the operation and the whole document (the payload): only the first line is kept.
    if (err instanceof JsonPatchError) return { ok: false, index: err.index ?? 0, message: firstLine(err.message) };
    // The library's guard against prototype pollution throws a plain TypeError.
    if (err instanceof TypeError) return { ok: false, index: 0, message: "modifies __proto__ or constructor.prototype" };
    throw err;
  }
}
