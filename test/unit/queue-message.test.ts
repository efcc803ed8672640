import { describe, expect, it } from "vitest";
import { decodeQueueMessage, type QueueMessage } from "../../src/data/outbox";

const at = { deliveryId: "dlv_1", tenantId: "ten_1" };

describe("the delivery queue's messages, decoded in one place", () => {
  it("takes each kind as sent", () => {
    const sent: QueueMessage[] = [
      { kind: "attempt", ...at },
      { kind: "attempt", ...at, manual: true },
      { kind: "probe", ...at },
      { kind: "turn", ...at, turnOf: "wh_1" },
    ];
    for (const m of sent) expect(decodeQueueMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it("takes the shape before `kind` (flags), as a deployed queue's backlog still holds it", () => {
    expect(decodeQueueMessage({ ...at })).toEqual({ kind: "attempt", ...at });
    expect(decodeQueueMessage({ ...at, manual: true })).toEqual({ kind: "attempt", ...at, manual: true });
    expect(decodeQueueMessage({ ...at, manual: false })).toEqual({ kind: "attempt", ...at });
    expect(decodeQueueMessage({ ...at, probe: true })).toEqual({ kind: "probe", ...at });
    expect(decodeQueueMessage({ ...at, turnOf: "wh_1" })).toEqual({ kind: "turn", ...at, turnOf: "wh_1" });
  });

  it("keeps only what the kind carries", () => {
    expect(decodeQueueMessage({ kind: "probe", ...at, manual: true, turnOf: "wh_1" })).toEqual({ kind: "probe", ...at });
    expect(decodeQueueMessage({ kind: "attempt", ...at, manual: "yes", probe: true })).toEqual({ kind: "attempt", ...at });
  });

  it("answers null for a body that names no delivery, or a kind it does not know", () => {
    for (const body of [
      null,
      "dlv_1",
      42,
      {},
      { deliveryId: "dlv_1" },
      { tenantId: "ten_1" },
      { deliveryId: 1, tenantId: "ten_1" },
      { kind: "turn", ...at },
      { kind: "replay", ...at },
      { kind: undefined, ...at },
    ]) {
      expect(decodeQueueMessage(body)).toBeNull();
    }
  });
});
