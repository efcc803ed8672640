import { describe, expect, it } from "vitest";
import { api, baseUrl, createTenant } from "./client";

/**
 * A hostile pattern against a hostile string, over real HTTP (wrangler dev):
 * patterns run on a linear-time engine, so each answer comes quickly and the
 * service keeps answering. The bound only catches catastrophic backtracking.
 */

const GENEROUS_MS = 2000;
const KIB = 1024;

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

/** The longest string `data` can be while the publish body stays within 256 KiB. */
const longest = (type: string, tail: string) => "a".repeat(256 * KIB - JSON.stringify({ type, data: "" }).length - tail.length) + tail;

describe("ReDoS over real HTTP (wrangler dev)", () => {
  it('^(a+)+$ against "a"×40+"!" and a 256 KiB string answers quickly, and /health still answers', async () => {
    const { key } = await createTenant();
    const type = "redos.check";
    const created = await api("POST", "/v1/event-types", {
      key: key.key,
      body: { name: type, schema: { type: "string", pattern: "^(a+)+$" } },
    });
    expect(created.status).toBe(201);

    const short = await timed(() => api("POST", "/v1/events", { key: key.key, body: { type, data: `${"a".repeat(40)}!` } }));
    expect(short.result.status).toBe(422);
    expect(short.result.body.code).toBe("validation_failed");
    expect(short.ms).toBeLessThan(GENEROUS_MS);

    const long = await timed(() => api("POST", "/v1/events", { key: key.key, body: { type, data: longest(type, "!") } }));
    expect(long.result.status).toBe(422);
    expect(long.ms).toBeLessThan(GENEROUS_MS);

    const matching = await timed(() => api("POST", "/v1/events", { key: key.key, body: { type, data: longest(type, "a") } }));
    expect(matching.result.status).toBe(202);
    expect(matching.ms).toBeLessThan(GENEROUS_MS);

    const health = await fetch(`${baseUrl()}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
  });

  it("hostile publishes in parallel do not stall /health", async () => {
    const { key } = await createTenant();
    const type = "redos.parallel";
    const schema = { type: "object", patternProperties: { "^(a|aa)+$": { type: "number" } }, properties: { s: { pattern: "^(a+)+$" } } };
    expect((await api("POST", "/v1/event-types", { key: key.key, body: { name: type, schema } })).status).toBe(201);
    const data = { s: `${"a".repeat(5000)}!`, [`${"a".repeat(5000)}!`]: 1 };
    const { result, ms } = await timed(() =>
      Promise.all([
        ...Array.from({ length: 5 }, () => api("POST", "/v1/events", { key: key.key, body: { type, data } })),
        fetch(`${baseUrl()}/health`).then((r) => ({ status: r.status, body: null })),
      ]),
    );
    expect(result.map((r) => r.status)).toEqual([422, 422, 422, 422, 422, 200]);
    expect(ms).toBeLessThan(GENEROUS_MS * 2);
  });

  it("a pattern the linear engine cannot run is refused when stored, with the path named", async () => {
    const { key } = await createTenant();
    const res = await api("POST", "/v1/event-types", {
      key: key.key,
      body: { name: "redos.lookahead", schema: { pattern: "^(?=(a+)+$)" } },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: "schema.pattern", message: expect.stringContaining("lookahead") })]);
    expect((await fetch(`${baseUrl()}/health`)).status).toBe(200);
  });
});
