import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adminToken, baseUrl } from "./client";

const README = path.resolve(import.meta.dirname, "../../README.md");

/** The shell block between the quickstart markers, exactly as printed. */
function quickstart(): string {
  const text = readFileSync(README, "utf8");
  const block = /<!-- quickstart:start -->\s*```sh\n([\s\S]*?)```\s*<!-- quickstart:end -->/.exec(text);
  if (!block?.[1]) throw new Error("README has no quickstart block");
  return block[1];
}

describe("README quickstart", () => {
  it("works as printed against wrangler dev", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hookgate-quickstart-"));
    try {
      // The quickstart reads the token from .dev.vars in the working directory, as `npm start` leaves it.
      writeFileSync(path.join(dir, ".dev.vars"), `ADMIN_TOKEN=${adminToken()}\n`);
      const script = quickstart().replaceAll("http://127.0.0.1:8787", baseUrl());
      const out = execFileSync("bash", ["-euo", "pipefail", "-c", script], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      expect(out).toContain('"name": "Default key"');
      expect(out).toContain("CI key lists keys: 200");
      expect(out).toMatch(/"code": "insufficient_scope",\s*"requiredScope": "keys:write"/);
      expect(out).toContain("revoke: 204");
      expect(out).toMatch(/"status": 401,\s*"code": "credential_revoked"/);
      expect(out).toMatch(/admin tenant\.created ten_/);
      expect(out).toMatch(/key_\w+ key\.revoked key_/);
      expect(out).toContain('"name": "invoice.paid"');
      expect(out).toMatch(/"secret": "whsec_[A-Za-z0-9+/]{43}="/);
      expect(out).toMatch(/"type": "invoice\.paid",\s*"deliveries": \[\s*\{\s*"id": "dlv_\w+",\s*"status": "pending"/);
      expect(out.trim().split("\n").at(-1)).toBe("1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
