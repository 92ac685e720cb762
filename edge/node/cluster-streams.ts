// The Node reader on a Redis Cluster: one XREAD cannot name streams of several
// slots, so the open streams are grouped by the master owning their slot, with one
// MultiplexedStreamReader (one blocking connection) per such master.
//
// Streams move between readers when the slot map changes: on the Cluster's
// "refresh" event, and after any failed XREAD (MOVED/ASK after a resharding, or a
// dead master) the slot map is refreshed and every stream re-placed. A moved
// stream keeps its cursor and the entries it had read but not delivered, so the
// relay sees no gap and no repeat. While no live master owns a slot (a failover in
// progress) its streams wait; readers left without streams are closed.
import { Redis, type Cluster } from "ioredis";
import { keySlot } from "../../contract/node/key-slot.js";
import type { Logger } from "../config.js";
import { MultiplexedStreamReader, type Sub } from "../streams/multiplexed.js";
import type { ResponseStreamReader, ResponseSubscription, StreamEntry } from "../streams/reader.js";

class MovableSub implements ResponseSubscription {
  inner: Sub | null = null;
  node: string | null = null;
  closed = false;
  /** entries read by a previous node's reader and not yet delivered */
  private carry: StreamEntry[] = [];
  private attached: (() => void) | null = null;

  constructor(
    readonly key: string,
    /** cursor while detached (no reader) */
    private cursor: string,
    private readonly onClose: (s: MovableSub) => void,
  ) {}

  moveTo(reader: MultiplexedStreamReader | null, node: string | null): void {
    const old = this.inner;
    if (old) {
      this.cursor = old.cursor;
      this.carry.push(...old.buffer.splice(0));
      old.close(); // its pending next() resolves with [] and ours re-reads from the new reader
    }
    this.inner = reader ? reader.open(null, this.key, this.cursor) : null;
    this.node = node;
    this.attached?.();
  }

  async next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.carry.length) return this.carry.splice(0);
      if (this.closed || signal?.aborted) return [];
      const left = deadline - Date.now();
      if (left <= 0) return [];
      const inner = this.inner;
      if (!inner) {
        // no live master owns the slot yet: wait for a placement (or the timeout)
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, left);
          signal?.addEventListener("abort", done, { once: true });
          this.attached = done;
          function done() {
            clearTimeout(t);
            resolve();
          }
        });
        this.attached = null;
        continue;
      }
      const got = await inner.next(left, signal);
      if (got.length) return got;
      if (inner === this.inner) return []; // a real timeout (or abort), not a move
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner?.close();
    this.attached?.();
    this.onClose(this);
  }
}

export class ClusterStreamReader implements ResponseStreamReader {
  private readonly readers = new Map<string, { reader: MultiplexedStreamReader; command: Redis }>();
  private readonly subs = new Set<MovableSub>();
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private readonly onRefresh = () => this.regroup();

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: { logger?: Logger; blockMs?: number } = {},
  ) {
    cluster.on("refresh", this.onRefresh);
  }

  get size(): number {
    return this.subs.size;
  }

  open(_conn: unknown, key: string, afterId: string): ResponseSubscription {
    if (this.stopped) throw new Error("stream reader is closed");
    const s = new MovableSub(key, afterId, (x) => this.subs.delete(x));
    this.subs.add(s);
    this.place(s);
    return s;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.cluster.off("refresh", this.onRefresh);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const s of [...this.subs]) s.close();
    await Promise.all([...this.readers.keys()].map((n) => this.drop(n)));
  }

  /** The master owning `key`'s slot in the client's current slot map ("host:port"), if any. */
  private ownerOf(key: string): string | null {
    return this.cluster.slots[keySlot(key)]?.[0] ?? null;
  }

  private readerFor(node: string): MultiplexedStreamReader {
    const have = this.readers.get(node);
    if (have) return have.reader;
    const i = node.lastIndexOf(":");
    const base = this.cluster.options.redisOptions ?? {};
    // Fails fast (no retries, short connect timeout) so a dead master shows up as an
    // XREAD error at once, which triggers the slot refresh that finds its replica.
    const command = new Redis({
      ...base,
      host: node.slice(0, i),
      port: Number(node.slice(i + 1)),
      connectionName: "sg-edge-xread-cmd",
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    });
    command.on("error", () => {}); // reported through the reader's onError
    const reader = new MultiplexedStreamReader(command, {
      logger: this.opts.logger,
      blockMs: this.opts.blockMs,
      onError: () => this.scheduleRefresh(),
    });
    this.readers.set(node, { reader, command });
    return reader;
  }

  private place(s: MovableSub): void {
    const node = this.ownerOf(s.key);
    if (node === s.node && (node === null || this.readers.has(node))) {
      if (node === null) this.scheduleRefresh();
      return;
    }
    s.moveTo(node ? this.readerFor(node) : null, node);
    if (!node) this.scheduleRefresh();
  }

  /** Re-places every stream by the current slot map and closes readers left idle. */
  private regroup(): void {
    if (this.stopped) return;
    for (const s of this.subs) this.place(s);
    for (const [node, { reader }] of this.readers) if (reader.size === 0) void this.drop(node);
  }

  private async drop(node: string): Promise<void> {
    const r = this.readers.get(node);
    if (!r) return;
    this.readers.delete(node);
    await r.reader.close().catch(() => {});
    r.command.disconnect();
  }

  /** After a failed XREAD: ask the cluster for its slot map (at most every 200 ms), then regroup. */
  private scheduleRefresh(): void {
    if (this.refreshTimer || this.stopped) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.cluster.refreshSlotsCache(() => this.regroup());
    }, 200);
  }
}
