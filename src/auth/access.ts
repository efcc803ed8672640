import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { Config } from "../config";
import { AuthenticationError } from "../lib/errors";

type KeySet = ReturnType<typeof createRemoteJWKSet>;

// One key set per team domain, kept for the isolate's life: jose caches the certs it fetched and fetches
// them again only for a key id it does not know (Access rotates its keys), at most every 30 s.
const keySets = new Map<string, KeySet>();

function keySetOf(teamDomain: string): KeySet {
  let set = keySets.get(teamDomain);
  if (!set) {
    set = createRemoteJWKSet(new URL(`${teamDomain}/cdn-cgi/access/certs`), { timeoutDuration: 5_000 });
    keySets.set(teamDomain, set);
  }
  return set;
}

/**
 * The member of staff a Cloudflare Access assertion names, as the audit
 * actor `operator:<email>`. Verified against the team's certs: RS256 only,
 * issued by the team domain, for this application's AUD, not expired. Any
 * failure is a 401, the same as a wrong operator token; what failed is not
 * told, and the assertion itself is never logged.
 */
export async function accessOperator(access: NonNullable<Config["access"]>, assertion: string): Promise<string> {
  const refused = (why: string) => new AuthenticationError("invalid_credential", `The Cloudflare Access assertion ${why}`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(assertion, keySetOf(access.teamDomain), {
      algorithms: ["RS256"],
      audience: access.aud,
      issuer: access.teamDomain,
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    // Malformed, wrong signature, unknown key id, wrong audience or issuer, or certs that could not be fetched.
    throw refused(error instanceof errors.JWTExpired ? "has expired" : "is not valid");
  }
  const who = typeof payload.email === "string" ? payload.email : typeof payload.common_name === "string" ? payload.common_name : "";
  // An address, not text to trust: printable ASCII without spaces (it is written into audit entries).
  if (!/^[!-~]{1,254}$/.test(who)) throw refused("names no identity");
  return `operator:${who}`;
}
