import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, newClient, newKey, newRoomyTenant, publishEvent, stubDeliveryQueue, stubEndpoint } from "./helpers";
import { expectClientProblem, fill, hasBody, type Operation, operations, send, snapshot } from "./security-kit";

/**
 * Every by-id tenant route answers 404 for another tenant's id (never 403,
 * which would confirm it exists), and leaves that tenant's resources as
 * they were.
 */

/** Bodies valid for each action, so that the lookup (not validation) is what refuses. */
const VALID_BODIES: Record<string, Record<string, unknown>> = {
  "PATCH /v1/keys/{id}": { name: "taken over" },
  "POST /v1/keys/{id}/rotate": { graceSeconds: 0 },
  "PATCH /v1/webhooks/{id}": { description: "taken over", isEnabled: false },
  "POST /v1/webhooks/{id}/rotate-secret": { graceSeconds: 0 },
  "POST /v1/webhooks/{id}/recover": { since: new Date(Date.now() - 3_600_000).toISOString() },
  "PATCH /v1/event-types/{name}": { description: "taken over", deprecated: true },
  "POST /v1/event-types/{name}/versions": { version: "2026-01-01" },
  "PATCH /v1/sources/{id}": { name: "taken over", isEnabled: false },
};

let byId: Operation[];
let a: { key: string; ids: Record<string, string> };
let b: { key: string };

beforeAll(async () => {
  byId = (await operations()).filter((o) => !o.admin && o.template.includes("{"));
  await stubDeliveryQueue();
  await stubEndpoint(new Response("ok"));
  const owner = await newRoomyTenant({ quotas: { sources: 5 } });
  const type = "tenancy.thing";
  expect((await call("POST", "/v1/event-types", { key: owner.key, body: { name: type } })).status).toBe(201);
  const webhook = await call("POST", "/v1/webhooks", { key: owner.key, body: { url: "https://hooks.example.com/t", eventTypes: [type] } });
  expect(webhook.status, webhook.text).toBe(201);
  const event = await publishEvent(owner.key, type, { n: 1 });
  const key = await newKey(owner.key, { scopes: ["keys:read"] });
  const client = await newClient(owner.key);
  const source = await call("POST", "/v1/sources", { key: owner.key, body: { name: "tenancy-source", eventType: type } });
  expect(source.status, source.text).toBe(201);
  const intake = await call("POST", new URL(source.body.url).pathname, { rawBody: "{}", headers: { "content-type": "application/json" } });
  expect(intake.status, intake.text).toBe(202);
  const requests = await call("GET", `/v1/sources/${source.body.id}/requests`, { key: owner.key });
  // A request error kept under the same id, so GET /v1/requests/{requestId} finds one too.
  await call("GET", "/v1/keys/key_missing", { key: owner.key, headers: { "x-request-id": requests.body.data[0].id } });
  const since = new Date(Date.now() - 3600_000).toISOString();
  const replay = await call("POST", "/v1/replays", { key: owner.key, body: { webhookId: webhook.body.id, since } });
  expect(replay.status, replay.text).toBe(202);
  a = {
    key: owner.key,
    ids: {
      keys: key.id,
      "oauth-clients": client.id,
      webhooks: webhook.body.id,
      events: event.eventId,
      deliveries: event.deliveryIds[0]!,
      "event-types": type,
      sources: source.body.id,
      requests: requests.body.data[0].id,
      replays: replay.body.id,
    },
  };
  b = await newRoomyTenant();
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe("security: another tenant's ids", () => {
  it("the document lists the by-id tenant routes, and every id is real to its owner", async () => {
    expect(byId.length).toBeGreaterThan(20);
    for (const op of byId.filter((o) => o.method === "GET")) {
      const res = await call("GET", fill(op.template, a.ids), { key: a.key });
      expect(res.status, `${op.label} as the owner: ${res.text.slice(0, 200)}`).toBe(200);
    }
  });

  it("every by-id route → 404 not_found for another tenant, and the owner's rows are untouched", async () => {
    const before = await snapshot();
    for (const op of byId) {
      const body = hasBody(op) ? (VALID_BODIES[op.label] ?? {}) : undefined;
      const res = await send(op, fill(op.template, a.ids), { key: b.key, ...(body && { json: body }) });
      expectClientProblem(res, `${op.label} with another tenant's id`, 404, "not_found");
      // The problem does not echo the owner's resource.
      expect(res.text).not.toContain("hooks.example.com/t");
    }
    expect(await snapshot()).toEqual(before);
  });

  it("the owner's resources still work as before", async () => {
    expect((await call("GET", `/v1/keys/${a.ids.keys}`, { key: a.key })).body.revokedAt).toBeNull();
    expect((await call("GET", `/v1/webhooks/${a.ids.webhooks}`, { key: a.key })).body).toMatchObject({
      isEnabled: true,
      description: null,
    });
    expect((await call("GET", `/v1/event-types/${a.ids["event-types"]}`, { key: a.key })).body).toMatchObject({
      deprecated: false,
      archived: false,
    });
    expect((await call("GET", `/v1/oauth-clients/${a.ids["oauth-clients"]}`, { key: a.key })).status).toBe(200);
    expect((await call("GET", `/v1/sources/${a.ids.sources}`, { key: a.key })).body).toMatchObject({
      name: "tenancy-source",
      isEnabled: true,
    });
  });
});
