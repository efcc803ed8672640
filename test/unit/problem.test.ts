import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { errorAnswer } from "../../src/http/problem";
import { AuthenticationError, DomainError, ForbiddenError, OAuthError, QuotaExceededError, ValidationError } from "../../src/lib/errors";
import { RateLimitedError } from "../../src/ratelimit/limits";

const RID = "req_test";

describe("errorAnswer: any thrown error as one answer", () => {
  it("answers a domain error with its problem document, its extras riding along", () => {
    const err = new ValidationError([{ path: "url", message: "must be https", allowed: ["https"] }]);
    expect(errorAnswer(err, RID)).toEqual({
      status: 422,
      headers: { "content-type": "application/problem+json" },
      body: {
        type: "https://hookgate.dev/problems/validation-failed",
        title: "Unprocessable Content",
        status: 422,
        detail: "url: must be https",
        code: "validation_failed",
        requestId: RID,
        errors: [{ path: "url", message: "must be https", allowed: ["https"] }],
      },
    });
    const scope = errorAnswer(new ForbiddenError("insufficient_scope", "needs keys:write", { requiredScope: "keys:write" }), RID);
    expect(scope.status).toBe(403);
    expect(scope.body).toMatchObject({ code: "insufficient_scope", title: "Forbidden", requiredScope: "keys:write" });
    expect(errorAnswer(new QuotaExceededError("webhooks", 20, "webhooks"), RID).body).toMatchObject({
      status: 409,
      code: "quota_exceeded",
      quota: "webhooks",
      limit: 20,
    });
  });

  it("asks for a bearer credential on a 401, except from a webhook sender whose signature failed", () => {
    const missing = errorAnswer(new AuthenticationError("unauthorized", "no credential"), RID);
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe('Bearer realm="hookgate"');
    const unsigned = errorAnswer(new DomainError("invalid_signature", "bad signature"), RID);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers).toEqual({ "content-type": "application/problem+json" });
    expect(errorAnswer(new ForbiddenError("ip_not_allowed", "no"), RID).headers["www-authenticate"]).toBeUndefined();
  });

  it("carries a 429's Retry-After and rate-limit headers, and a 503's Retry-After", () => {
    const window = { limit: 60, windowSeconds: 60 };
    const limited = errorAnswer(
      new RateLimitedError("read", window, { verdict: "rate_limited", limit: 60, remaining: 0, slotSeconds: 7, fullResetSeconds: 60 }),
      RID,
    );
    expect(limited.status).toBe(429);
    expect(limited.headers).toMatchObject({ "retry-after": "7", "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0" });
    expect(limited.body).toMatchObject({ code: "rate_limited", retryAfter: 7, policy: "read:60/1m" });
    const down = errorAnswer(new DomainError("misconfigured", "not configured", { retryAfter: 60 }), RID);
    expect([down.status, down.headers["retry-after"]]).toEqual([503, "60"]);
    // Retry-After only where it means something: not on a 4xx that happens to carry the extra.
    expect(errorAnswer(new DomainError("conflict", "busy", { retryAfter: 5 }), RID).headers["retry-after"]).toBeUndefined();
  });

  it("answers an error nobody raised with a bare 500 that never echoes its message", () => {
    for (const thrown of [
      new Error("D1 said: SELECT secret FROM keys"),
      new TypeError("x is undefined at /src/secret.ts"),
      "a thrown string with a secret",
      new HTTPException(500, { message: "upstream secret" }),
    ]) {
      const answer = errorAnswer(thrown, RID);
      expect(answer.status).toBe(500);
      expect(answer.body).toMatchObject({ code: "internal_error", detail: "An internal error occurred", requestId: RID });
      expect(JSON.stringify(answer)).not.toMatch(/secret/);
    }
  });

  it("answers storage contention with a 503 to retry", () => {
    const answer = errorAnswer(new Error("D1_ERROR: Database is overloaded. Requests queued for too long. timeout"), RID);
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("1");
    expect(answer.body).toMatchObject({ code: "storage_busy", retryAfter: 1 });
  });

  it("maps Hono's own exceptions onto the API's codes", () => {
    const code = (status: 400 | 404 | 413 | 415) => errorAnswer(new HTTPException(status, { message: "m" }), RID).body.code;
    expect([code(400), code(413), code(415), code(404)]).toEqual([
      "malformed_json",
      "payload_too_large",
      "unsupported_media_type",
      "bad_request",
    ]);
  });

  it("answers a refused token request in RFC 6749's terms", () => {
    expect(errorAnswer(new OAuthError("invalid_client", "Client authentication failed"), RID)).toEqual({
      status: 401,
      headers: { "content-type": "application/json", "cache-control": "no-store", "www-authenticate": 'Basic realm="hookgate"' },
      body: { error: "invalid_client", error_description: "Client authentication failed", requestId: RID },
    });
    expect(errorAnswer(new OAuthError("invalid_scope", "Unknown scope: x"), RID)).toEqual({
      status: 400,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: { error: "invalid_scope", error_description: "Unknown scope: x", requestId: RID },
    });
  });
});

describe("src/", () => {
  const root = join(import.meta.dirname, "..", "..");
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));

  it("builds problem documents in src/http/problem.ts only; the default type base is declared once", () => {
    const sources = files(join(root, "src")).filter((f) => /\.tsx?$/.test(f) && !f.endsWith("schema.d.ts"));
    const mentioning = (text: string) => sources.filter((f) => readFileSync(f, "utf8").includes(text)).map((f) => relative(root, f));
    expect(mentioning("hookgate.dev/problems/")).toEqual(["src/common/branding.ts"]);
    expect(mentioning("function problemBody")).toEqual(["src/http/problem.ts"]);
  });
});
