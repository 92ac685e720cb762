// Sharded pub/sub (SSUBSCRIBE) on one Redis or a Redis Cluster, for the pool's
// cancel and wake channels and the edge's stream notifications.
//
// On a cluster a shard channel is served by the master owning its slot, so this
// keeps one subscriber connection per master that owns a subscribed channel, and
// re-places the channels whenever the slot map changes (the Cluster client's
// "refresh" event, or a subscriber connection failing, which asks for a refresh):
// after a failover the channels of the dead master are subscribed again on its
// promoted replica. Messages published while a channel was moving are lost; every
// user has a durable fallback (cancel keys, polls). ioredis's own shardedSubscribers
// option is not used: it rejected SSUBSCRIBEs under churn ("Connection in subscriber
// mode") and leaves failover recovery out of our hands.
import { Redis, type Cluster } from "ioredis";
import { keySlot } from "./key-slot.js";

export type MessageHandler = (channel: string, message: string) => void;

export interface ShardSubscriber {
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  onMessage(handler: MessageHandler): void;
  close(): void;
}

/** `redis`: a connectRedis() result; the subscriber opens its own connection(s) beside it. */
export function shardSubscriber(redis: Redis, onError?: (err: Error) => void): ShardSubscriber {
  return redis.isCluster ? new ClusterShardSubscriber(redis as unknown as Cluster, onError) : new SingleShardSubscriber(redis, onError);
}

class SingleShardSubscriber implements ShardSubscriber {
  private readonly conn: Redis;
  constructor(redis: Redis, onError?: (err: Error) => void) {
    // No ready check: a subscribe asked for during the handshake is written at once
    // (SSUBSCRIBE is allowed while connecting), and the ready check's INFO that
    // follows is refused in subscriber mode, which fails the connection.
    this.conn = redis.duplicate({ maxRetriesPerRequest: null, enableAutoPipelining: false, enableReadyCheck: false });
    this.conn.on("error", (e: Error) => onError?.(e));
  }
  async subscribe(channel: string): Promise<void> {
    await this.conn.ssubscribe(channel);
  }
  async unsubscribe(channel: string): Promise<void> {
    await this.conn.sunsubscribe(channel);
  }
  onMessage(handler: MessageHandler): void {
    this.conn.on("smessage", handler);
  }
  close(): void {
    this.conn.disconnect();
  }
}

class ClusterShardSubscriber implements ShardSubscriber {
  private readonly conns = new Map<string, Redis>();
  /** channel -> the master it is subscribed on (null = no live owner known yet) */
  private readonly placed = new Map<string, string | null>();
  private readonly handlers: MessageHandler[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly onRefresh = () => this.regroup();

  constructor(
    private readonly cluster: Cluster,
    private readonly onError?: (err: Error) => void,
  ) {
    cluster.on("refresh", this.onRefresh);
  }

  async subscribe(channel: string): Promise<void> {
    if (this.placed.has(channel)) return;
    this.placed.set(channel, null);
    await this.place(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    const node = this.placed.get(channel);
    this.placed.delete(channel);
    if (node) await this.conns.get(node)?.sunsubscribe(channel).catch(() => {});
    this.dropIdle();
  }

  onMessage(handler: MessageHandler): void {
    this.handlers.push(handler);
  }

  close(): void {
    this.closed = true;
    this.cluster.off("refresh", this.onRefresh);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const c of this.conns.values()) c.disconnect();
    this.conns.clear();
  }

  private async place(channel: string): Promise<void> {
    const node = this.cluster.slots[keySlot(channel)]?.[0] ?? null;
    const current = this.placed.get(channel);
    if (current === undefined || this.closed) return; // unsubscribed meanwhile
    if (node === current) return;
    if (current) void this.conns.get(current)?.sunsubscribe(channel).catch(() => {});
    this.placed.set(channel, node);
    if (!node) return this.scheduleRefresh();
    try {
      await this.conn(node).ssubscribe(channel);
    } catch (err) {
      // MOVED (the slot moved) or a dead node: look at the slot map again
      this.onError?.(err as Error);
      if (this.placed.get(channel) === node) this.placed.set(channel, null);
      this.scheduleRefresh();
    }
  }

  private conn(node: string): Redis {
    const have = this.conns.get(node);
    if (have) return have;
    const i = node.lastIndexOf(":");
    const c = new Redis({
      ...(this.cluster.options.redisOptions ?? {}),
      host: node.slice(0, i),
      port: Number(node.slice(i + 1)),
      // No handshake commands after connect (ready check INFO, CLIENT SETNAME): an SSUBSCRIBE
      // queued while connecting may run first, and they are refused in subscriber mode.
      connectionName: undefined,
      enableReadyCheck: false,
      // a dead master must show up at once (a failed SSUBSCRIBE), not after retries
      maxRetriesPerRequest: 0,
      connectTimeout: 3_000,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    });
    c.on("smessage", (channel: string, message: string) => {
      if (this.placed.get(channel) !== node) return; // a late message from a channel's old home
      for (const h of this.handlers) h(channel, message);
    });
    c.on("error", (err: Error) => {
      this.onError?.(err);
      this.scheduleRefresh();
    });
    // after a reconnect ioredis resubscribes by itself; a lost node is found by the refresh
    c.on("close", () => this.scheduleRefresh());
    this.conns.set(node, c);
    return c;
  }

  /** Re-places every channel by the current slot map; closes connections left without channels. */
  private regroup(): void {
    if (this.closed) return;
    for (const ch of this.placed.keys()) void this.place(ch);
    this.dropIdle();
  }

  private dropIdle(): void {
    const used = new Set(this.placed.values());
    for (const [node, c] of this.conns) {
      if (used.has(node)) continue;
      this.conns.delete(node);
      c.disconnect();
    }
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer || this.closed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.cluster.refreshSlotsCache(() => this.regroup());
    }, 200);
  }
}
