import { randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, baseUrl, createTenant } from "./client";
import { type Received, startReceiver, until } from "./receiver";

const HIGH = { read: { limit: 100_000, windowSeconds: 60 }, write: { limit: 100_000, windowSeconds: 60 } };
const GITHUB_SECRET = "e2e-github-webhook-secret";
const stripe = new Stripe("sk_test_x");

describe("an incoming GitHub webhook becomes a signed delivery (wrangler dev + a receiver on 127.0.0.1)", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let sourceUrl: string;
  let webhookSecret: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    const { tenant, key } = await createTenant();
    const k = key.key;
    expect((await api("PATCH", `/admin/tenants/${tenant.id}`, { admin: true, body: { rateLimits: HIGH } })).status).toBe(200);
    expect((await api("POST", "/v1/event-types", { key: k, body: { name: "github.push" } })).status).toBe(201);
    const hook = await api("POST", "/v1/webhooks", { key: k, body: { url: `${receiver.url}/github`, eventTypes: ["github.push"] } });
    expect(hook.status).toBe(201);
    webhookSecret = hook.body.secret;
    const source = await api("POST", "/v1/sources", {
      key: k,
      body: {
        name: "github",
        eventType: "github.{{headers.x-github-event}}",
        verification: { scheme: "github", secret: GITHUB_SECRET },
        mapping: { repo: "{{trigger.repository.full_name}}", pusher: "{{trigger.pusher.name}}" },
      },
    });
    expect(source.status).toBe(201);
    sourceUrl = source.body.url;
    expect(sourceUrl).toBe(`${baseUrl()}/in/${source.body.id}/${source.body.token}`);
  });
  afterAll(() => receiver.close());

  const push = {
    ref: "refs/heads/main",
    repository: { id: 1296269, full_name: "octocat/Hello-World" },
    pusher: { name: "octocat", email: "octocat@github.com" },
    commits: [{ id: "6dcb09b5b57875f334f61aebed695e2e4193db5e", message: "Fix all the bugs" }],
  };

  /** What GitHub sends: the raw JSON body signed with the webhook's secret. */
  async function githubDelivery(deliveryId: string, payload: unknown = push) {
    const body = JSON.stringify(payload);
    return fetch(sourceUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/e2e",
        "x-github-event": "push",
        "x-github-delivery": deliveryId,
        "x-hub-signature-256": await sign(GITHUB_SECRET, body),
      },
      body,
    });
  }

  const deliveriesOf = (eventId: string) => receiver.received.filter((r: Received) => r.headers["x-webhook-event-id"] === eventId);

  it("is verified, mapped, published and delivered signed; the receiver verifies it with Stripe's SDK", async () => {
    const res = await githubDelivery(randomUUID());
    expect(res.status).toBe(202);
    const { eventId } = (await res.json()) as { eventId: string };
    expect(eventId).toMatch(/^evt_/);

    const [delivery] = await until("the delivery", () => {
      const got = deliveriesOf(eventId);
      return got.length > 0 ? got : undefined;
    });
    expect(delivery!.path).toBe("/github");
    expect(delivery!.headers["x-webhook-event-type"]).toBe("github.push");
    const event = stripe.webhooks.constructEvent(
      delivery!.body,
      String(delivery!.headers["x-webhook-signature"]),
      webhookSecret,
    ) as unknown as {
      id: string;
      type: string;
      data: unknown;
    };
    expect(event.id).toBe(eventId);
    expect(event.type).toBe("github.push");
    expect(event.data).toEqual({ repo: "octocat/Hello-World", pusher: "octocat" });
    // A forged copy does not verify.
    expect(() =>
      stripe.webhooks.constructEvent(
        delivery!.body.replace("octocat", "mallory"),
        String(delivery!.headers["x-webhook-signature"]),
        webhookSecret,
      ),
    ).toThrow();
  });

  it("a redelivery of the same X-GitHub-Delivery answers with the same event and is delivered once", async () => {
    const deliveryId = randomUUID();
    const first = await githubDelivery(deliveryId);
    expect(first.status).toBe(202);
    const { eventId } = (await first.json()) as { eventId: string };
    const again = await githubDelivery(deliveryId, { ...push, pusher: { name: "someone-else" } });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ eventId });

    await until("the delivery", () => (deliveriesOf(eventId).length > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2000));
    expect(deliveriesOf(eventId)).toHaveLength(1);
    expect(JSON.parse(deliveriesOf(eventId)[0]!.body).data).toEqual({ repo: "octocat/Hello-World", pusher: "octocat" });
  });

  it("a request signed with another secret is refused with 401 and delivers nothing", async () => {
    const before = receiver.received.length;
    const body = JSON.stringify(push);
    const res = await fetch(sourceUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": await sign("not-the-secret", body),
      },
      body,
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_signature");
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received.length).toBe(before);
  });
});
