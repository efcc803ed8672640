import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { call, expectProblem, newOperatorType, type Result, stubDeliveryQueue } from "./helpers";
import {
  countEvents,
  countLoggedRequests,
  expectAccepted,
  getEvent,
  lastRequest,
  newSource,
  send,
  sourceTenant,
  subscribe,
} from "./sources-kit";

// Requests to /in/:source/:token, with no API credential: admission, bodies, mapping, publishing, answers, rate limit.

beforeEach(() => {
  // Nothing leaves the Worker: deliveries stay pending rows, outbound fetches are faked.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("ok", { status: 200 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const KiB = 1024;
/** A JSON document of exactly `bytes` bytes. */
const jsonOfSize = (bytes: number) => JSON.stringify({ pad: "x".repeat(bytes - '{"pad":""}'.length) });
const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** The parts of a problem that must not tell two refusals apart. */
const problemShape = (res: Result) => {
  const { requestId: _r, ...rest } = res.body;
  return { status: res.status, contentType: res.headers.get("content-type"), body: rest };
};

describe("admission: the URL's token is the credential", () => {
  it("unknown id, malformed id, wrong token, disabled and deleted source: the same 404", async () => {
    const { key } = await sourceTenant();
    const live = await newSource(key, { eventType: "order.created" });
    const disabled = await newSource(key, { eventType: "order.created", isEnabled: false });
    const deleted = await newSource(key, { eventType: "order.created" });
    expectAccepted(await send(deleted.path, "{}"));
    expect((await call("DELETE", `/v1/sources/${deleted.id}`, { key })).status).toBe(204);

    const answers = [
      await send(`/in/src_${"A".repeat(20)}/${live.token}`, "{}"),
      await send(`/in/not-a-source/${live.token}`, "{}"),
      await send(`/in/${live.id}/${"x".repeat(40)}`, "{}"),
      await send(`/in/${live.id}/${live.token.slice(0, -1)}`, "{}"),
      await send(disabled.path, "{}"),
      await send(deleted.path, "{}"),
    ];
    for (const res of answers) expectProblem(res, 404, "not_found");
    const shapes = answers.map(problemShape);
    for (const shape of shapes) expect(shape).toEqual(shapes[0]);
    // Nothing reached a log: no source was admitted (the deleted one keeps its earlier request).
    for (const s of [live, disabled]) expect(await countLoggedRequests(s.id)).toBe(0);
    expect(await countLoggedRequests(deleted.id)).toBe(1);
    // The live one still works.
    expectAccepted(await send(live.path, "{}"));
  });

  it("an API credential is neither needed nor a substitute for the token", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectProblem(await send(`/in/${src.id}/wrong`, "{}", { headers: { authorization: `Bearer ${key}` } }), 404, "not_found");
    expectAccepted(await send(src.path, "{}"));
  });
});

describe("publishing", () => {
  it("no verification: 202 {eventId}; the event holds the body as data and fans out to subscriptions", async () => {
    const { key, tenantId } = await sourceTenant(["order.created", "order.shipped"]);
    const queue = await stubDeliveryQueue();
    const exact = await subscribe(key, ["order.created"]);
    const all = await subscribe(key, ["*"]);
    await subscribe(key, ["order.shipped"]);
    const src = await newSource(key, { eventType: "order.created" });
    const data = { id: "ord_1", total: 12.5, lines: [{ sku: "a", qty: 2 }], gift: false, note: null };

    const eventId = expectAccepted(await send(src.path, JSON.stringify(data)));
    const event = await getEvent(key, eventId);
    expect(event).toMatchObject({ id: eventId, type: "order.created", data });
    expect(event.deliveries.map((d: any) => d.webhookId).sort()).toEqual([exact, all].sort());
    for (const d of event.deliveries) expect(d.status).toBe("pending");
    expect(
      queue
        .sent()
        .map((m) => m.deliveryId)
        .sort(),
    ).toEqual(event.deliveries.map((d: any) => d.id).sort());
    const listed = await call("GET", `/v1/deliveries?eventId=${eventId}`, { key });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((d: any) => d.id).sort()).toEqual(event.deliveries.map((d: any) => d.id).sort());
    expect(await countEvents(tenantId)).toBe(1);
    // The log entry points at the event.
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "accepted", eventId, responseStatus: 202 });
  });

  it("reads application/json (with charset), +json and forms (an object of strings)", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const withCharset = expectAccepted(await send(src.path, '{"a":1}', { contentType: "application/json; charset=utf-8" }));
    expect((await getEvent(key, withCharset)).data).toEqual({ a: 1 });
    const plusJson = expectAccepted(await send(src.path, '{"data":{"type":"orders"}}', { contentType: "application/vnd.api+json" }));
    expect((await getEvent(key, plusJson)).data).toEqual({ data: { type: "orders" } });
    const form = expectAccepted(
      await send(src.path, "From=%2B15551234567&Body=hello+there&NumMedia=0&Empty=", {
        contentType: "application/x-www-form-urlencoded",
      }),
    );
    expect((await getEvent(key, form)).data).toEqual({ From: "+15551234567", Body: "hello there", NumMedia: "0", Empty: "" });
    const array = expectAccepted(await send(src.path, "[1,2,3]"));
    expect((await getEvent(key, array)).data).toEqual([1, 2, 3]);
  });

  it("415 for text/plain or no content type, 400 for broken JSON, logged with their reasons", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectProblem(await send(src.path, "hello", { contentType: "text/plain" }), 415, "unsupported_media_type");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "unsupported_media_type", responseStatus: 415 });
    expectProblem(await send(src.path, "{}", { contentType: null }), 415, "unsupported_media_type");
    const broken = await send(src.path, '{"a":');
    expectProblem(broken, 400, "malformed_json");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "bad_body", responseStatus: 400 });
    expectProblem(await send(src.path, ""), 400, "malformed_json");
    expect(await countEvents(tenantId)).toBe(0);
  });

  it("JSON nested deeper than 64 levels: 400 too_deep; 64 levels are fine", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectProblem(await send(src.path, nested(65)), 400, "too_deep");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "bad_body" });
    expectProblem(await send(src.path, nested(100_000)), 400, "too_deep");
    expect(await countEvents(tenantId)).toBe(0);
    expectAccepted(await send(src.path, nested(64)));
  });
});

describe("size limit: 256 KiB", () => {
  it("exactly 256 KiB is accepted; one byte more is 413, logged too_large", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    expectAccepted(await send(src.path, jsonOfSize(256 * KiB)));
    expectProblem(await send(src.path, jsonOfSize(256 * KiB + 1)), 413, "payload_too_large");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "too_large", responseStatus: 413 });
  });

  it("a streamed body without Content-Length, or with a lying one, is counted as it arrives", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created" });
    const stream = (total: number) => {
      const chunk = new TextEncoder().encode("x".repeat(16 * KiB));
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) return controller.close();
          controller.enqueue(chunk);
          sent += chunk.byteLength;
        },
      });
    };
    const noLength = await send(src.path, stream(320 * KiB));
    expectProblem(noLength, 413, "payload_too_large");
    const lying = await send(src.path, stream(320 * KiB), { headers: { "content-length": "10" } });
    expectProblem(lying, 413, "payload_too_large");
    // A declared length over the limit is refused before reading.
    expectProblem(await send(src.path, "{}", { headers: { "content-length": String(300 * KiB) } }), 413, "payload_too_large");
    expect(await countEvents(tenantId)).toBe(0);
  });
});

describe("mapping and the event type template", () => {
  const trigger = {
    action: "opened",
    repository: { full_name: "acme/api", id: 42, private: true },
    commits: [{ id: "c1" }, { id: "c2", author: { name: "ada" } }],
    labels: ["bug", "p1"],
    count: 3,
  };

  it("places values with their JSON type, writes text inside longer strings, reads headers and query, missing → null", async () => {
    const { key } = await sourceTenant(["github.push"]);
    const mapping = {
      repo: "{{trigger.repository.full_name}}",
      repoId: "{{trigger.repository.id}}",
      private: "{{trigger.repository.private}}",
      labels: "{{trigger.labels}}",
      firstCommit: "{{trigger.commits.0.id}}",
      author: "{{ trigger.commits.1.author.name }}",
      summary: "{{trigger.action}} {{trigger.count}} in {{trigger.repository}}",
      event: "{{headers.x-github-event}}",
      tag: "{{query.tag}}",
      missing: "{{trigger.nope.deeper}}",
      missingHeader: "{{headers.x-absent}}",
      outOfRange: "{{trigger.commits.9.id}}",
      list: ["{{trigger.commits.1.id}}", 7, null, { nested: "{{trigger.count}}" }],
      constant: { kept: true, n: 1.5 },
      whole: "{{trigger}}",
    };
    const src = await newSource(key, { eventType: "github.push", mapping });
    const eventId = expectAccepted(
      await send(src.path, JSON.stringify(trigger), { query: "?tag=v1.2", headers: { "X-GitHub-Event": "push" } }),
    );
    expect((await getEvent(key, eventId)).data).toEqual({
      repo: "acme/api",
      repoId: 42,
      private: true,
      labels: ["bug", "p1"],
      firstCommit: "c1",
      author: "ada",
      summary: `opened 3 in ${JSON.stringify(trigger.repository)}`,
      event: "push",
      tag: "v1.2",
      missing: null,
      missingHeader: null,
      outOfRange: null,
      list: ["c2", 7, null, { nested: 3 }],
      constant: { kept: true, n: 1.5 },
      whole: trigger,
    });
  });

  it("github.{{headers.x-github-event}} resolves per request; an uncatalogued result is 422 unknown_event_type", async () => {
    const { key, tenantId } = await sourceTenant(["github.push", "github.issues"]);
    const src = await newSource(key, { eventType: "github.{{headers.x-github-event}}" });
    const push = expectAccepted(await send(src.path, "{}", { headers: { "x-github-event": "push" } }));
    expect((await getEvent(key, push)).type).toBe("github.push");
    const issues = expectAccepted(await send(src.path, "{}", { headers: { "x-github-event": "issues" } }));
    expect((await getEvent(key, issues)).type).toBe("github.issues");

    const unknown = await send(src.path, "{}", { headers: { "x-github-event": "star" } });
    expectProblem(unknown, 422, "unknown_event_type");
    expect(unknown.body.detail).toContain("github.star");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "unknown_event_type", responseStatus: 422 });
    expectProblem(await send(src.path, "{}"), 422, "unknown_event_type");
    expect(await countEvents(tenantId)).toBe(2);
  });

  it("a type from the body must be a string of the catalog", async () => {
    const { key } = await sourceTenant(["invoice.paid"]);
    const src = await newSource(key, { eventType: "{{trigger.type}}" });
    expect((await getEvent(key, expectAccepted(await send(src.path, '{"type":"invoice.paid"}')))).type).toBe("invoice.paid");
    expectProblem(await send(src.path, '{"type":42}'), 422, "unknown_event_type");
    expectProblem(await send(src.path, '{"type":{"a":1}}'), 422, "unknown_event_type");
    expectProblem(await send(src.path, "{}"), 422, "unknown_event_type");
  });

  it("the operator's types cannot be published by a tenant's source: 422 unknown_event_type, nothing stored", async () => {
    const operatorType = await newOperatorType();
    const { key, tenantId } = await sourceTenant();
    // A static operator type is refused when the source is stored...
    const stored = await call("POST", "/v1/sources", { key, body: { name: "op", eventType: operatorType.name } });
    expectProblem(stored, 422, "validation_failed");
    // ...and a template that resolves to one is refused per request.
    const src = await newSource(key, { eventType: "{{trigger.type}}" });
    const res = await send(src.path, JSON.stringify({ type: operatorType.name }));
    expectProblem(res, 422, "unknown_event_type");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "unknown_event_type" });
    expect(await countEvents(tenantId)).toBe(0);
  });

  it("the mapped data must satisfy the type's schema: 422 schema_mismatch naming the field", async () => {
    const schema = {
      type: "object",
      required: ["amount", "currency"],
      properties: { amount: { type: "integer", minimum: 1 }, currency: { enum: ["EUR", "USD"] } },
    };
    const { key, tenantId } = await sourceTenant([{ name: "payment.received", schema }]);
    const src = await newSource(key, {
      eventType: "payment.received",
      mapping: { amount: "{{trigger.data.amount}}", currency: "{{trigger.data.currency}}" },
    });
    const ok = expectAccepted(await send(src.path, JSON.stringify({ data: { amount: 500, currency: "EUR" } })));
    expect((await getEvent(key, ok)).data).toEqual({ amount: 500, currency: "EUR" });
    const bad = await send(src.path, JSON.stringify({ data: { amount: "500", currency: "EUR" } }));
    expectProblem(bad, 422, "schema_mismatch");
    expect((bad.body.errors as any[]).map((e) => e.path)).toContain("data.amount");
    const missing = await send(src.path, JSON.stringify({ data: { amount: 5 } }));
    expectProblem(missing, 422, "schema_mismatch");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "schema_mismatch", responseStatus: 422 });
    expect(await countEvents(tenantId)).toBe(1);
  });

  it("mapped data nesting deeper than 64 levels is refused before it is stored", async () => {
    const { key, tenantId } = await sourceTenant();
    let mapping: unknown = "{{trigger}}";
    for (let i = 0; i < 40; i++) mapping = { m: mapping };
    const src = await newSource(key, { eventType: "order.created", mapping });
    expectProblem(await send(src.path, nested(40)), 400, "too_deep");
    expect(await countEvents(tenantId)).toBe(0);
    expectAccepted(await send(src.path, nested(10)));
  });

  it("mapped data over 256 KiB is refused (413), however often the mapping repeats the body", async () => {
    const { key, tenantId } = await sourceTenant();
    const mapping = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i % 2 ? "{{trigger}}" : "x{{trigger}}"]));
    const src = await newSource(key, { eventType: "order.created", mapping });
    expectProblem(await send(src.path, jsonOfSize(200 * KiB)), 413, "payload_too_large");
    expect(await lastRequest(key, src.id)).toMatchObject({ status: "rejected", rejection: "too_large" });
    expect(await countEvents(tenantId)).toBe(0);
    expectAccepted(await send(src.path, '{"a":1}'));
  });
});

describe("answers and limits", () => {
  it("a custom response is answered instead of 202; the event is still published", async () => {
    const { key } = await sourceTenant();
    const src = await newSource(key, {
      eventType: "order.created",
      response: { status: 200, body: "<ok/>", contentType: "text/plain" },
    });
    const res = await send(src.path, '{"n":1}');
    expect(res.status).toBe(200);
    expect(res.text).toBe("<ok/>");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const logged = await lastRequest(key, src.id);
    expect(logged).toMatchObject({ status: "accepted", responseStatus: 200 });
    expect((await getEvent(key, logged.eventId)).data).toEqual({ n: 1 });

    const bare = await newSource(key, { eventType: "order.created", response: { status: 204 } });
    const empty = await send(bare.path, '{"n":2}');
    expect(empty.status, empty.text).toBe(204);
    expect(empty.text).toBe("");
    expect((await lastRequest(key, bare.id)).responseStatus).toBe(204);

    const typed = await newSource(key, {
      eventType: "order.created",
      response: { status: 201, body: '{"ok":true}', contentType: 'application/json; charset="utf-8"' },
    });
    const json = await send(typed.path, "{}");
    expect(json.status).toBe(201);
    expect(json.body).toEqual({ ok: true });
    expect(json.headers.get("content-type")).toBe('application/json; charset="utf-8"');
  });

  it("over the source's rateLimit: 429 with Retry-After, logged rejected rate_limited; other sources unaffected", async () => {
    const { key, tenantId } = await sourceTenant();
    const src = await newSource(key, { eventType: "order.created", rateLimit: 3 });
    const other = await newSource(key, { eventType: "order.created", rateLimit: 3 });
    for (let i = 0; i < 3; i++) expectAccepted(await send(src.path, `{"n":${i}}`));
    const limited = await send(src.path, '{"n":3}');
    expectProblem(limited, 429, "rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.retryAfter).toBe(retryAfter);
    expect(await lastRequest(key, src.id)).toMatchObject({
      status: "rejected",
      rejection: "rate_limited",
      responseStatus: 429,
      eventId: null,
    });
    expect(await countEvents(tenantId)).toBe(3);
    expectAccepted(await send(other.path, "{}"));
  });
});
