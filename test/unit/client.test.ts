import { describe, expect, expectTypeOf, it } from "vitest";
import { createHookgateClient, type Problem, type Schema } from "../../src/tools/client/index";

/** A fetch that records each Request and answers with `body`. */
function recorder(status = 200, body: unknown = {}) {
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": status >= 400 ? "application/problem+json" : "application/json" },
    });
  };
  return { fetch, requests };
}

describe("createHookgateClient", () => {
  it("sends the API key on /v1, the admin token on /admin, and neither elsewhere", async () => {
    const { fetch, requests } = recorder();
    const hookgate = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "hg_key", adminToken: "adm_token", fetch });
    await hookgate.GET("/v1/keys");
    await hookgate.GET("/admin/tenants");
    await hookgate.POST("/oauth/token", { body: { grant_type: "client_credentials", client_id: "c", client_secret: "s" } as never });
    expect(requests.map((r) => [new URL(r.url).pathname, r.headers.get("authorization")])).toEqual([
      ["/v1/keys", "Bearer hg_key"],
      ["/admin/tenants", "Bearer adm_token"],
      ["/oauth/token", null],
    ]);
  });

  it("with one credential, the other kind of path gets none", async () => {
    const { fetch, requests } = recorder();
    await createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "hg_key", fetch }).GET("/admin/tenants");
    await createHookgateClient({ baseUrl: "https://hg.example.com", adminToken: "adm", fetch }).GET("/v1/keys");
    expect(requests.map((r) => r.headers.get("authorization"))).toEqual([null, null]);
  });

  it("an Authorization header given on a call, or in the options, wins", async () => {
    const { fetch, requests } = recorder();
    const hookgate = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "hg_key", fetch });
    await hookgate.GET("/v1/whoami", { headers: { authorization: "Bearer other" } });
    const fixed = createHookgateClient({
      baseUrl: "https://hg.example.com",
      apiKey: "hg_key",
      fetch,
      headers: { Authorization: "Bearer fixed" },
    });
    await fixed.GET("/v1/whoami");
    expect(requests.map((r) => r.headers.get("authorization"))).toEqual(["Bearer other", "Bearer fixed"]);
  });

  it("builds URLs from the base (a path prefix kept, a trailing slash dropped), path and query parameters", async () => {
    const { fetch, requests } = recorder();
    const hookgate = createHookgateClient({ baseUrl: "https://hg.example.com/hookgate/", apiKey: "k", fetch });
    await hookgate.GET("/v1/webhooks/{id}", { params: { path: { id: "wh_1/x" } } });
    await hookgate.GET("/v1/deliveries", { params: { query: { status: "failed", webhookId: "wh_1" } } });
    expect(requests.map((r) => r.url)).toEqual([
      "https://hg.example.com/hookgate/v1/webhooks/wh_1%2Fx",
      "https://hg.example.com/hookgate/v1/deliveries?status=failed&webhookId=wh_1",
    ]);
  });

  it("sends JSON bodies and returns typed data, or the problem as `error`", async () => {
    const ok = recorder(202, { id: "evt_1", type: "invoice.paid", createdAt: "2025-01-01T00:00:00.000Z", data: {}, deliveries: [] });
    const hookgate = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "k", fetch: ok.fetch });
    const { data, error } = await hookgate.POST("/v1/events", { body: { type: "invoice.paid", data: { amount: 42 } } });
    expect(await ok.requests[0]!.json()).toEqual({ type: "invoice.paid", data: { amount: 42 } });
    expect(ok.requests[0]!.headers.get("content-type")).toBe("application/json");
    expect(error).toBeUndefined();
    expect(data?.id).toBe("evt_1");
    expectTypeOf<NonNullable<typeof data>["deliveries"][number]["status"]>().toEqualTypeOf<
      "pending" | "succeeded" | "failed" | "cancelled"
    >();

    const refused = recorder(401, {
      type: "t",
      title: "Unauthorized",
      status: 401,
      code: "unauthorized",
      detail: "Unknown key",
      requestId: "r",
    });
    const bad = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "nope", fetch: refused.fetch });
    const res = await bad.GET("/v1/keys");
    expect(res.data).toBeUndefined();
    expect(res.response.status).toBe(401);
    expect(res.error).toMatchObject({ code: "unauthorized", detail: "Unknown key" });
    expectTypeOf<NonNullable<typeof res.error>>().toExtend<Problem>();
  });

  it("is typed by the API's paths and schemas", () => {
    const hookgate = createHookgateClient({ baseUrl: "https://hg.example.com", apiKey: "k", fetch: recorder().fetch });
    expectTypeOf<Schema<"Webhook">["url"]>().toEqualTypeOf<string>();
    expectTypeOf(hookgate.GET).toBeFunction();
    // Compile-time only: these lines fail the type check if the generated types stop covering them.
    const typed = () => {
      // @ts-expect-error no such path
      void hookgate.GET("/v1/nope");
      // @ts-expect-error the publish body needs a type
      void hookgate.POST("/v1/events", { body: { data: {} } });
      void hookgate.POST("/admin/tenants", { body: { name: "Acme" } });
    };
    expect(typed).toBeTypeOf("function");
  });

  it("needs a baseUrl", () => {
    expect(() => createHookgateClient({ baseUrl: "" })).toThrow(TypeError);
  });
});
