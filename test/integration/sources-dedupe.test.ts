import { sign as githubSign } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { countDataRows } from "./data-plane";
import { call, expectProblem, fieldError, sleep, stubDeliveryQueue } from "./helpers";
import {
  countEvents,
  expectAccepted,
  getEvent,
  lastRequest,
  newSource,
  requestLog,
  type Source,
  send,
  shopifyHeaders,
  slackHeaders,
  sourceTenant,
  subscribe,
} from "./sources-kit";

// Deduplication by the sender's delivery id, and URL token rotation.

beforeEach(() => {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

type Sender = {
  verification?: Record<string, unknown>;
  dedupe?: Record<string, unknown>;
  request: (id: string, n: number) => Promise<{ body: string; headers: Record<string, string> }>;
};

const stripe = new Stripe("sk_test_x");
const swSecret = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;

/** One sender per way of naming a delivery; `n` changes the body, `id` is the delivery id. */
const senders: Record<string, Sender> = {
  "GitHub's X-GitHub-Delivery": {
    verification: { scheme: "github", secret: "gh" },
    request: async (id, n) => {
      const body = JSON.stringify({ n });
      return { body, headers: { "x-github-delivery": id, "x-hub-signature-256": await githubSign("gh", body) } };
    },
  },
  "Shopify's X-Shopify-Webhook-Id": {
    verification: { scheme: "shopify", secret: "shp" },
    request: async (id, n) => {
      const body = JSON.stringify({ n });
      return { body, headers: { "x-shopify-webhook-id": id, ...(await shopifyHeaders("shp", body)) } };
    },
  },
  "Standard Webhooks' webhook-id": {
    verification: { scheme: "standard-webhooks", secret: swSecret },
    request: async (id, n) => {
      const body = JSON.stringify({ n });
      const at = new Date();
      return {
        body,
        headers: {
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
          "webhook-signature": new StandardWebhook(swSecret).sign(id, at, body),
        },
      };
    },
  },
  "Stripe's body id": {
    verification: { scheme: "stripe", secret: "whsec_s" },
    request: async (id, n) => {
      const body = JSON.stringify({ id, n });
      return {
        body,
        headers: { "stripe-signature": await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: "whsec_s" }) },
      };
    },
  },
  "Slack's body event_id": {
    verification: { scheme: "slack", secret: "sl" },
    request: async (id, n) => {
      const body = JSON.stringify({ type: "event_callback", event_id: id, n });
      return { body, headers: await slackHeaders("sl", body) };
    },
  },
  "a configured {header}": {
    dedupe: { header: "X-Request-Key" },
    request: async (id, n) => ({ body: JSON.stringify({ n }), headers: { "x-request-key": id } }),
  },
  "a configured {path}": {
    dedupe: { path: "meta.delivery.0" },
    request: async (id, n) => ({ body: JSON.stringify({ meta: { delivery: [id] }, n }), headers: {} }),
  },
};

describe("deduplication: a repeat answers as the first did and publishes nothing", () => {
  for (const [what, sender] of Object.entries(senders)) {
    it(what, async () => {
      const { key, tenantId } = await sourceTenant();
      await subscribe(key, ["order.created"]);
      const queue = await stubDeliveryQueue();
      const src = await newSource(key, {
        eventType: "order.created",
        ...(sender.verification && { verification: sender.verification }),
        ...(sender.dedupe && { dedupe: sender.dedupe }),
      });
      const first = await sender.request("dlv-1", 1);
      const eventId = expectAccepted(await send(src.path, first.body, { headers: first.headers }));
      // The same delivery again, even re-signed with a changed body (a retry by the sender).
      const again = await sender.request("dlv-1", 2);
      expect(expectAccepted(await send(src.path, first.body, { headers: first.headers }))).toBe(eventId);
      expect(expectAccepted(await send(src.path, again.body, { headers: again.headers }))).toBe(eventId);
      expect(await countEvents(tenantId)).toBe(1);
      expect(await countDataRows(tenantId, "deliveries")).toBe(1);
      expect(queue.sent()).toHaveLength(1);
      expect((await getEvent(key, eventId)).data).toEqual(JSON.parse(first.body));
      const log = await requestLog(key, src.id);
      expect(log.map((r) => [r.status, r.eventId])).toEqual([
        ["duplicate", eventId],
        ["duplicate", eventId],
        ["accepted", eventId],
      ]);
      expect((await requestLog(key, src.id, "?status=duplicate")).length).toBe(2);
      // Another delivery id is another event.
      const next = await sender.request("dlv-2", 1);
      const other = expectAccepted(await send(src.path, next.body, { headers: next.headers }));
      expect(other).not.toBe(eventId);
      expect(await countEvents(tenantId)).toBe(2);
    });
  }

  it("without a delivery id every request is a new event", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const a = expectAccepted(await send(src.path, '{"same":true}'));
    const b = expectAccepted(await send(src.path, '{"same":true}'));
    expect(a).not.toBe(b);
    expect(await countEvents(tenantId)).toBe(2);
  });

  it("delivery ids are per source: two sources may see the same id", async () => {
    const { key } = await sourceTenant();
    const one = await newSource(key, { eventType: "order.created", dedupe: { header: "x-id" } });
    const two = await newSource(key, { eventType: "order.created", dedupe: { header: "x-id" } });
    const a = expectAccepted(await send(one.path, "{}", { headers: { "x-id": "shared" } }));
    const b = expectAccepted(await send(two.path, "{}", { headers: { "x-id": "shared" } }));
    expect(a).not.toBe(b);
  });

  it("a duplicate gets the source's custom response too", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", dedupe: { header: "x-id" }, response: { status: 200, body: "got it" } });
    for (let i = 0; i < 2; i++) {
      const res = await send(src.path, "{}", { headers: { "x-id": "d1" } });
      expect(res.status).toBe(200);
      expect(res.text).toBe("got it");
    }
    expect((await requestLog(key, src.id)).map((r) => r.status)).toEqual(["duplicate", "accepted"]);
  });
});

describe("POST /v1/sources/:id/rotate-token", () => {
  const rotate = (key: string, id: string, body: Record<string, unknown> = {}) =>
    call("POST", `/v1/sources/${id}/rotate-token`, { key, body });
  const pathOf = (url: string) => new URL(url).pathname;
  const works = async (path: string) => (await send(path, "{}")).status === 202;

  async function setup(): Promise<{ key: string; src: Source }> {
    const { key } = await sourceTenant();
    return { key, src: await newSource(key, { eventType: "order.created" }) };
  }

  it("without grace (the default): a new URL now; the old token stops at once", async () => {
    const { key, src } = await setup();
    const res = await rotate(key, src.id);
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["token", "url"]);
    expect(res.body.token).toMatch(/^[0-9A-Za-z]{32,}$/);
    expect(res.body.token).not.toBe(src.token);
    expect(res.body.url).toBe(`http://hookgate.test/in/${src.id}/${res.body.token}`);
    expectProblem(await send(src.path, "{}"), 404, "not_found");
    expect(await works(pathOf(res.body.url))).toBe(true);
    // The token is never shown again.
    expect((await call("GET", `/v1/sources/${src.id}`, { key })).text).not.toContain(res.body.token);
  });

  it("graceSeconds 0 stops the old token now", async () => {
    const { key, src } = await setup();
    const res = await rotate(key, src.id, { graceSeconds: 0 });
    expect(res.status, res.text).toBe(200);
    expect(await works(src.path)).toBe(false);
    expect(await works(pathOf(res.body.url))).toBe(true);
  });

  it("with grace: both work until the grace ends, then only the new one", async () => {
    const { key, src } = await setup();
    const res = await rotate(key, src.id, { graceSeconds: 2 });
    expect(res.status, res.text).toBe(200);
    const fresh = pathOf(res.body.url);
    expect(await works(src.path)).toBe(true);
    expect(await works(fresh)).toBe(true);
    await sleep(2300);
    expectProblem(await send(src.path, "{}"), 404, "not_found");
    expect(await works(fresh)).toBe(true);
  });

  it("a second rotation ends the first one's grace: at most one old token works", async () => {
    const { key, src } = await setup();
    const second = await rotate(key, src.id, { graceSeconds: 3600 });
    expect(await works(src.path)).toBe(true);
    const third = await rotate(key, src.id, { graceSeconds: 3600 });
    expect(third.status, third.text).toBe(200);
    expect(await works(src.path)).toBe(false);
    expect(await works(pathOf(second.body.url))).toBe(true);
    expect(await works(pathOf(third.body.url))).toBe(true);
    // Rotating again without grace ends every old token.
    const fourth = await rotate(key, src.id);
    expect(await works(pathOf(second.body.url))).toBe(false);
    expect(await works(pathOf(third.body.url))).toBe(false);
    expect(await works(pathOf(fourth.body.url))).toBe(true);
  });

  it("graceSeconds over 7 days or negative: 422", async () => {
    const { key, src } = await setup();
    for (const graceSeconds of [7 * 86_400 + 1, -1, 1.5]) {
      const res = await rotate(key, src.id, { graceSeconds });
      expectProblem(res, 422, "validation_failed");
      expect(fieldError(res, "graceSeconds")).toBeDefined();
    }
    expect((await rotate(key, src.id, { graceSeconds: 7 * 86_400 })).status).toBe(200);
    expect(await works(src.path)).toBe(true);
    expect((await lastRequest(key, src.id)).status).toBe("accepted");
  });
});
