import { DurableObject } from "cloudflare:workers";
import {
  type DeliveryMessage as DeliveryFrame,
  type ErrorMessage,
  PING,
  PONG,
  type ReadyMessage,
  type ReplacedMessage,
  SESSION_KEPT_MS,
} from "../common/listen-protocol";
import { loadConfig } from "../config";
import { attemptMessage, sendToQueue } from "../data/outbox";
import { objectOfId } from "../data/placement";
import { shardStub } from "../objects";
import { cachedTenant } from "../tenants/cache";
import { parseResult, type SocketDelivery, type SocketResult, START_HEADER } from "./protocol";
import { type SessionMeta, SessionStore } from "./session-store";
import type { SessionStart } from "./subscription";
import { expireListenSession } from "./subscription";

/** How long a delivery waits for those that queued before it (a cancelled one never comes). */
export const ORDER_WAIT_MS = 5_000;

type Waiter = { ws: WebSocket; resolve: (result: SocketResult) => void; timer: ReturnType<typeof setTimeout> };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One `hookgate listen` session (`lsn_…`): its WebSocket (Hibernation API: no duration billed
 * while idle), the deliveries that wait while no CLI is connected, and its expiry alarm. The
 * delivery engine treats the socket as the endpoint: `deliver` writes the signed request down
 * it and answers with the CLI's result, which becomes the attempt's.
 */
export class ListenSession extends DurableObject<Env> {
  private readonly store: SessionStore;
  private readonly waiters = new Map<string, Waiter>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SessionStore(ctx.storage.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** A connection (the route has authenticated it): replaces any other, says ready, hands back what waited. */
  override async fetch(request: Request): Promise<Response> {
    const start = JSON.parse(request.headers.get(START_HEADER) ?? "null") as SessionStart | null;
    if (!start || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 400 });
    for (const old of this.ctx.getWebSockets()) this.replace(old);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    this.store.saveMeta({
      sessionId: start.sessionId,
      tenantId: start.tenantId,
      webhookId: start.webhookId,
      disconnectedAt: null,
      expired: false,
    });
    await this.ctx.storage.deleteAlarm();
    const ready: ReadyMessage = {
      type: "ready",
      sessionId: start.sessionId,
      secret: start.secret,
      webhookId: start.webhookId,
      events: start.events,
    };
    server.send(JSON.stringify(ready));
    await this.releaseWaiting();
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Asked before a delivery is claimed: "go" while a CLI is connected; otherwise the delivery
   * takes its place in line and waits (pending, no attempt), to be handed back on reconnect.
   */
  admit(deliveryId: string, tenantId: string): "go" | "wait" {
    if (this.socket()) return "go";
    this.store.hold(deliveryId, tenantId);
    return "wait";
  }

  /** One attempt down the socket: the CLI's result, `timeout` after `timeoutMs`, `connection` if no CLI or the socket drops. */
  async deliver(delivery: SocketDelivery, timeoutMs: number): Promise<SocketResult> {
    const started = Date.now();
    const failed = (error: "connection" | "timeout"): SocketResult => ({
      deliveryId: delivery.deliveryId,
      attempt: delivery.attempt,
      status: null,
      body: null,
      durationMs: Date.now() - started,
      error,
    });
    if (!this.socket()) return failed("connection");
    await this.waitTurn(delivery.deliveryId);
    const ws = this.socket();
    if (!ws) return failed("connection");
    const key = `${delivery.deliveryId}#${delivery.attempt}`;
    this.waiters.get(key)?.resolve(failed("connection"));
    const sent = Date.now();
    const answer = new Promise<SocketResult>((resolve) => {
      const waiter: Waiter = {
        ws,
        timer: setTimeout(() => waiter.resolve(failed("timeout")), Math.max(0, timeoutMs - (sent - started))),
        resolve: (result) => {
          clearTimeout(waiter.timer);
          if (this.waiters.get(key) === waiter) this.waiters.delete(key);
          resolve(result);
        },
      };
      this.waiters.set(key, waiter);
    });
    try {
      ws.send(JSON.stringify({ type: "delivery", ...delivery } satisfies DeliveryFrame));
    } catch {
      this.waiters.get(key)?.resolve(failed("connection"));
    }
    const result = await answer;
    // The CLI's own timing, never more than the wait it took here.
    return { ...result, durationMs: Math.min(result.durationMs, Date.now() - started) };
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const result = parseResult(message);
    if (!result) return;
    const waiter = this.waiters.get(`${result.deliveryId}#${result.attempt}`);
    // A result counts on the connection its delivery went down, only.
    if (waiter && waiter.ws === ws) waiter.resolve(result);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {}
    await this.ended(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.ended(ws);
  }

  /** Ten minutes after the last connection ended: the subscription goes, its pending deliveries are cancelled. */
  override async alarm(): Promise<void> {
    const meta = this.store.meta();
    if (!meta || meta.expired || this.socket()) return;
    const due = (meta.disconnectedAt ?? 0) + SESSION_KEPT_MS;
    if (due > Date.now()) {
      await this.ctx.storage.setAlarm(due);
      return;
    }
    const config = loadConfig(this.env);
    const owner = await cachedTenant(this.env.DB, meta.tenantId);
    if (!config.ok || !owner) throw new Error(`listen session ${meta.sessionId}: cannot expire yet`);
    await expireListenSession(this.env, config.config, owner, meta.webhookId, meta.sessionId);
    this.store.clearWaiting();
    this.store.saveMeta({ ...meta, expired: true });
  }

  /** The open connection, if any (a replaced one is closing). */
  private socket(): WebSocket | undefined {
    return this.ctx
      .getWebSockets()
      .find((ws) => ws.readyState === WebSocket.OPEN && !(ws.deserializeAttachment() as { replaced?: boolean } | null)?.replaced);
  }

  private replace(old: WebSocket): void {
    old.serializeAttachment({ replaced: true });
    this.failInFlight(old);
    try {
      const message = "Another hookgate listen connected to this session and took it over.";
      old.send(JSON.stringify({ type: "replaced", message } satisfies ReplacedMessage));
      old.close(4000, "replaced by another connection");
    } catch {}
  }

  /** What was in flight on `ws` failed (`connection`); without another connection the expiry clock starts. */
  private async ended(ws: WebSocket): Promise<void> {
    this.failInFlight(ws);
    if (this.socket()) return;
    const meta = this.store.meta();
    if (!meta || meta.expired || meta.disconnectedAt !== null) return;
    const now = Date.now();
    this.store.saveMeta({ ...meta, disconnectedAt: now });
    await this.ctx.storage.setAlarm(now + SESSION_KEPT_MS);
  }

  private failInFlight(ws: WebSocket): void {
    for (const [key, waiter] of this.waiters) {
      if (waiter.ws !== ws) continue;
      const [deliveryId = "", attempt = "0"] = key.split("#");
      waiter.resolve({ deliveryId, attempt: Number(attempt), status: null, body: null, durationMs: 0, error: "connection" });
    }
  }

  /**
   * What waited goes back to the queue, due now and in its order; `deliver` keeps that order
   * on the socket. If this fails, each delivery's own next look (its deferred due time) finds
   * the CLI connected.
   */
  private async releaseWaiting(): Promise<void> {
    const now = Date.now();
    const waiting = this.store.takeUnreleased(now);
    if (waiting.length === 0) return;
    try {
      await Promise.all(
        waiting.map(async (w) => {
          const object = objectOfId(w.tenantId, w.deliveryId, "dlv");
          if (object) await shardStub(this.env, object.name).defer(w.deliveryId, new Date(now));
        }),
      );
      await sendToQueue(
        this.env,
        waiting.map((w) => ({ body: attemptMessage(w.deliveryId, w.tenantId) })),
      );
    } catch (err) {
      console.error(`listen session: handing back ${waiting.length} waiting deliveries failed`, err);
    }
  }

  /** Waits (briefly) until every delivery that queued before this one has gone down the socket. */
  private async waitTurn(deliveryId: string): Promise<void> {
    const deadline = Date.now() + ORDER_WAIT_MS;
    while (this.store.aheadOf(deliveryId) > 0) {
      if (Date.now() >= deadline) {
        this.store.dropAheadOf(deliveryId);
        break;
      }
      await sleep(20);
    }
    this.store.remove(deliveryId);
  }

  /**
   * The session's subscription was deleted (DELETE /v1/webhooks/:id): the CLI is told why and let
   * go, and the session is over (resuming it opens a new one).
   */
  async end(message: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      ws.serializeAttachment({ replaced: true });
      this.failInFlight(ws);
      try {
        ws.send(JSON.stringify({ type: "error", status: 410, message } satisfies ErrorMessage));
        ws.close(1008, "session ended");
      } catch {}
    }
    const meta = this.store.meta();
    if (meta) this.store.saveMeta({ ...meta, expired: true });
    this.store.clearWaiting();
    await this.ctx.storage.deleteAlarm();
  }

  /** For tests and the expiry: the stored state. */
  state(): SessionMeta | null {
    return this.store.meta();
  }
}
