import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { credentialGate } from "../../src/objects";
import { type CredentialGate, STATE_WRITE_MS } from "../../src/ratelimit/credential-gate";
import type { GateRequest } from "../../src/ratelimit/gate-types";
import { sleep, unique } from "./helpers";

const live = { revokedAt: null, expiresAt: null, ipAllowlist: null };
const request = (credentialId: string): GateRequest => ({
  credentialId,
  bucket: "read",
  mode: "live",
  window: { limit: 3, windowSeconds: 60 },
  policy: live,
  storePolicy: true,
  ip: null,
});

describe("the credential gate's per-request state", () => {
  it("is written behind: one storage write for a burst of requests, within STATE_WRITE_MS", async () => {
    const id = unique("key");
    await runInDurableObject(credentialGate(env, id), async (gate: CredentialGate, state) => {
      // The first use also reaches D1 at once (the alarm): let that and its writes pass first.
      expect(gate.check(request(id)).verdict).toBe("ok");
      await sleep(STATE_WRITE_MS + 300);
      const put = vi.spyOn(state.storage.kv, "put");
      const stateWrites = () => put.mock.calls.filter(([name]) => name === "state").length;
      for (let i = 0; i < 2; i++) expect(gate.check(request(id)).verdict).toBe("ok");
      // Each request is decided from memory (the fourth is over the limit of 3) and writes nothing itself.
      expect(gate.check(request(id)).verdict).toBe("rate_limited");
      expect(stateWrites()).toBe(0);
      await sleep(STATE_WRITE_MS + 300);
      expect(stateWrites()).toBe(1);
      const stored = state.storage.kv.get<{ tats: Record<string, number>; lastUsedAt: number | null }>("state");
      expect(Object.keys(stored?.tats ?? {})).toHaveLength(1);
      expect(stored?.lastUsedAt).not.toBeNull();
    });
  });

  it("what it wrote is what an object starting afresh decides on: the spent limit stays spent", async () => {
    const id = unique("key");
    const stub = credentialGate(env, id);
    for (let i = 0; i < 3; i++) expect((await stub.check(request(id))).verdict).toBe("ok");
    await sleep(STATE_WRITE_MS + 300);
    // A new instance over the same storage (what an eviction leaves) reads the written state.
    await runInDurableObject(stub, async (_gate: CredentialGate, state) => {
      const { CredentialGate: Gate } = await import("../../src/ratelimit/credential-gate");
      const fresh = new Gate(state, env);
      expect(fresh.check(request(id)).verdict).toBe("rate_limited");
    });
  });
});
