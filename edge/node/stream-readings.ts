// The open subscriptions of a Node edge reader that is told about new entries
// (edge/node/pushed-streams.ts on one Redis, edge/node/cluster-streams.ts on a
// cluster), and the one way either catches up: a non-blocking single-key XREAD
// from a subscription's cursor. Every pollMs it also reads the streams nothing
// was delivered to in that time, so a message that never came (lost while a
// subscriber reconnected, or a writer that does not announce its entries)
// delays entries by about pollMs, never forever.
import type { Redis } from "ioredis";
import type { Logger } from "../config.js";
import { decodeEntry, type RawEntry } from "../streams/reader.js";
import { Sub } from "../streams/sub.js";

export interface Reading {
  sub: Sub;
  /** a read is in flight */
  busy: boolean;
  /** another read was asked for meanwhile */
  again: boolean;
  /** performance.now() when entries were last delivered or a read last finished (the poll skips fresh ones) */
  readAt: number;
}

export interface StreamReadingsOptions {
  logger?: Logger;
  /** safety-net read of every stream nothing reached for this long (ms) */
  pollMs: number;
  /** entries per read */
  count?: number;
}

export class StreamReadings {
  private readonly byKey = new Map<string, Set<Reading>>();
  private readonly logger: Logger | undefined;
  private readonly count: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private stopped = false;

  /** `command`: the edge's command connection (or Cluster client, which routes each XREAD). */
  constructor(
    private readonly command: Redis,
    opts: StreamReadingsOptions,
  ) {
    this.logger = opts.logger;
    this.count = opts.count ?? 256;
    this.timer = setInterval(() => {
      const stale = performance.now() - opts.pollMs;
      for (const set of this.byKey.values()) for (const r of set) if (r.readAt <= stale) void this.read(r);
    }, opts.pollMs);
    this.timer.unref?.();
  }

  get size(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }

  /** A new subscription to `key` after `afterId`; `onLast` runs when the key's last one closes. */
  add(key: string, afterId: string, onLast: (key: string) => void): { reading: Reading; firstOfKey: boolean } {
    if (this.stopped) throw new Error("stream reader is closed");
    const reading: Reading = {
      sub: new Sub(key, afterId, () => this.remove(key, reading, onLast)),
      busy: false,
      again: false,
      readAt: performance.now(),
    };
    let set = this.byKey.get(key);
    const firstOfKey = set === undefined;
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(reading);
    return { reading, firstOfKey };
  }

  of(key: string): ReadonlySet<Reading> | undefined {
    return this.byKey.get(key);
  }

  readAll(): void {
    for (const set of this.byKey.values()) for (const r of set) void this.read(r);
  }

  close(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const set of [...this.byKey.values()]) for (const r of [...set]) r.sub.close();
  }

  private remove(key: string, reading: Reading, onLast: (key: string) => void): void {
    const set = this.byKey.get(key);
    if (!set) return;
    set.delete(reading);
    if (set.size > 0) return;
    this.byKey.delete(key);
    if (!this.stopped) onLast(key);
  }

  /** Reads the stream from the subscription's cursor until it is drained; coalesces overlapping asks. */
  async read(r: Reading): Promise<void> {
    if (r.busy) {
      r.again = true;
      return;
    }
    r.busy = true;
    try {
      do {
        r.again = false;
        if (r.sub.closed || this.stopped) return;
        const res = (await this.command.xread("COUNT", this.count, "STREAMS", r.sub.key, r.sub.cursor)) as [string, RawEntry[]][] | null;
        const raw = res?.[0]?.[1] ?? [];
        if (raw.length) r.sub.push(raw.map(decodeEntry));
        if (raw.length >= this.count) r.again = true;
      } while (r.again);
    } catch (err) {
      // the next message or poll retries
      this.logger?.warn({ err: (err as Error).message }, "stream reader XREAD failed");
    } finally {
      r.busy = false;
      r.readAt = performance.now();
    }
  }
}
