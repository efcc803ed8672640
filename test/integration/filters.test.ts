import { afterEach, describe, expect, it, vi } from "vitest";
import { call, deliverySetup, expectProblem, fieldError, stubDeliveryQueue } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const publish = (key: string, type: string, data: unknown) => call("POST", "/v1/events", { key, body: { type, data } });

describe("payload filters", () => {
  it("only matching events create deliveries", async () => {
    const filter = { data: { amount: { $gte: 100 }, currency: { $in: ["EUR", "USD"] } } };
    const { key, webhookId, webhook } = await deliverySetup({ webhook: { filter } });
    expect(webhook.filter).toEqual(filter);
    await stubDeliveryQueue();
    expect(
      (await publish(key, "invoice.paid", { amount: 150, currency: "EUR" })).body.deliveries.map((d: { webhookId: string }) => d.webhookId),
    ).toEqual([webhookId]);
    expect((await publish(key, "invoice.paid", { amount: 50, currency: "EUR" })).body.deliveries).toEqual([]);
    expect((await publish(key, "invoice.paid", { amount: 150, currency: "GBP" })).body.deliveries).toEqual([]);
    expect((await publish(key, "invoice.paid", { currency: "EUR" })).body.deliveries).toEqual([]);
    const log = await call("GET", `/v1/deliveries?webhookId=${webhookId}`, { key });
    expect(log.body.data).toHaveLength(1);
  });

  it("can match the type, and combine with other subscriptions", async () => {
    const { key, webhookId } = await deliverySetup({
      types: ["invoice.paid", "invoice.voided", "user.created"],
      webhook: { eventTypes: ["*"], filter: { type: { $startsWith: "invoice." } } },
    });
    const all = await call("POST", "/v1/webhooks", { key, body: { url: "https://hooks.example.com/all", eventTypes: ["*"] } });
    await stubDeliveryQueue();
    const ids = async (type: string) =>
      (await publish(key, type, {})).body.deliveries.map((d: { webhookId: string }) => d.webhookId).sort();
    expect(await ids("invoice.voided")).toEqual([webhookId, all.body.id].sort());
    expect(await ids("user.created")).toEqual([all.body.id]);
  });

  it("is validated on write: a bad operator is a 422 naming it and listing the valid ones", async () => {
    const { key, webhookId } = await deliverySetup();
    const bad = await call("POST", "/v1/webhooks", {
      key,
      body: { url: "https://hooks.example.com/f", eventTypes: ["*"], filter: { data: { amount: { $between: [1, 2] } } } },
    });
    expectProblem(bad, 422, "validation_failed");
    expect(fieldError(bad, "filter.data.amount.$between").allowed).toContain("$gte");
    const patch = await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { filter: { $or: [] } } });
    expectProblem(patch, 422, "validation_failed");
    fieldError(patch, "filter.$or");
    expectProblem(await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { filter: "amount > 5" } }), 422, "validation_failed");
    // A valid PATCH applies at once to the next publish; null removes the filter.
    await stubDeliveryQueue();
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { filter: { data: { vip: true } } } })).status).toBe(200);
    expect((await publish(key, "invoice.paid", { vip: false })).body.deliveries).toEqual([]);
    expect((await call("PATCH", `/v1/webhooks/${webhookId}`, { key, body: { filter: null } })).body.filter).toBeNull();
    expect((await publish(key, "invoice.paid", { vip: false })).body.deliveries).toHaveLength(1);
  });
});
