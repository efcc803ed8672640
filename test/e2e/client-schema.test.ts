import { describe, expect, it } from "vitest";
import { checkSchema, fetchDocument } from "../../scripts/generate-client.mjs";
import { createHookgateClient } from "../../src/tools/client/index";
import { adminToken, baseUrl } from "./client";

describe("hookgate/client", () => {
  it("its checked-in types match the /openapi.json this Worker serves", async () => {
    const drift = await checkSchema(await fetchDocument(baseUrl()));
    // The message says to run `npm run generate:client`.
    if (drift) expect.fail(drift);
  }, 30_000);

  it("drives the real API: the operator creates a tenant, the tenant's key publishes and reads back", async () => {
    const operator = createHookgateClient({ baseUrl: baseUrl(), adminToken: adminToken() });
    const created = await operator.POST("/admin/tenants", { body: { name: `client-${Date.now()}` } });
    expect(created.response.status).toBe(201);
    const tenant = created.data!;

    const hookgate = createHookgateClient({ baseUrl: baseUrl(), apiKey: tenant.key.key });
    const whoami = await hookgate.GET("/v1/whoami");
    expect(whoami.data?.tenantId).toBe(tenant.tenant.id);

    expect((await hookgate.POST("/v1/event-types", { body: { name: "client.tested" } })).response.status).toBe(201);
    const published = await hookgate.POST("/v1/events", { body: { type: "client.tested", data: { n: 1 } } });
    expect(published.response.status).toBe(202);
    const read = await hookgate.GET("/v1/events/{id}", { params: { path: { id: published.data!.id } } });
    expect(read.data).toMatchObject({ id: published.data!.id, type: "client.tested", data: { n: 1 } });

    const refused = await createHookgateClient({ baseUrl: baseUrl(), apiKey: "hg_bogus" }).GET("/v1/whoami");
    expect(refused.response.status).toBe(401);
    expect(refused.error).toMatchObject({ status: 401, code: expect.any(String), detail: expect.any(String) });
  });
});
