import { missingScopes } from "../common/scopes";
import { ForbiddenError } from "../lib/errors";

/** Refuses (403) a credential granting scopes it does not hold itself (the rule itself is in src/common/scopes.ts). */
export function assertCanGrant(held: readonly string[], requested: readonly string[], product: readonly string[] = []): void {
  const missing = missingScopes(held, requested, product);
  if (missing.length > 0) {
    throw new ForbiddenError("scope_escalation", `A credential cannot grant scopes it does not hold: ${missing.join(", ")}`, {
      requiredScope: missing[0],
      missingScopes: missing,
    });
  }
}
