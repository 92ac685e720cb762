// The Node reader on a Redis Cluster. There, one XREAD cannot name streams of
// different slots (CROSSSLOT, even on one node), and every request's stream has a
// slot of its own, so the single-Redis design (one blocking XREAD over every open
// stream, edge/streams/multiplexed.ts) cannot work. Instead:
//  - the pool's append.lua SPUBLISHes on the stream's shard channel
//    (keys.streamChannel, same slot) after each write;
//  - this reader SSUBSCRIBEs to the channels of the streams it relays (one subscriber
//    connection per master, re-placed after a failover: contract/node/shard-subscriber.ts), and on
//    a message reads the stream from its cursor with a non-blocking single-key XREAD
//    (routed by the Cluster client, which follows MOVED/ASK and failovers);
//  - every pollMs it also reads every open stream no message made it read in that
//    time: a message lost while a subscriber was reconnecting (a failover) delays
//    entries by at most about 2 x pollMs.
// Open streams still cost a fixed number of connections (one command and one
// subscriber connection per master), never one per stream.
import type { Redis } from "ioredis";
import type { ShardSubscriber } from "../../contract/node/shard-subscriber.js";
import { streamChannelOfOut } from "../../contract/queue/keys.js";
import type { Logger } from "../config.js";
import { Sub } from "../streams/multiplexed.js";
import { decodeEntry, type RawEntry, type ResponseStreamReader, type ResponseSubscription } from "../streams/reader.js";

interface Reading {
  sub: Sub;
  /** a read is in flight */
  busy: boolean;
  /** another read was asked for meanwhile */
  again: boolean;
  /** performance.now() when a read last finished (the safety-net poll skips fresh ones) */
  readAt: number;
}

export interface ClusterStreamReaderOptions {
  logger?: Logger;
  /** safety-net read of every open stream (ms) */
  pollMs?: number;
  /** entries per read */
  count?: number;
}

export class ClusterStreamReader implements ResponseStreamReader {
  private readonly byChannel = new Map<string, Set<Reading>>();
  private readonly logger: Logger | undefined;
  private readonly count: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private stopped = false;

  /** `command`: the edge's Cluster client; `subscriber`: this reader's own shard subscriber. */
  constructor(
    private readonly command: Redis,
    private readonly subscriber: ShardSubscriber,
    opts: ClusterStreamReaderOptions = {},
  ) {
    this.logger = opts.logger;
    this.count = opts.count ?? 256;
    subscriber.onMessage((channel: string) => {
      for (const r of this.byChannel.get(channel) ?? []) void this.read(r);
    });
    const pollMs = opts.pollMs ?? 1_000;
    this.timer = setInterval(() => {
      // Only streams no message made us read lately: a streaming request is read per write anyway.
      const stale = performance.now() - pollMs;
      for (const set of this.byChannel.values()) for (const r of set) if (r.readAt <= stale) void this.read(r);
    }, pollMs);
    this.timer.unref?.();
  }

  get size(): number {
    let n = 0;
    for (const s of this.byChannel.values()) n += s.size;
    return n;
  }

  open(_conn: unknown, key: string, afterId: string): ResponseSubscription {
    if (this.stopped) throw new Error("stream reader is closed");
    const channel = streamChannelOfOut(key);
    const reading: Reading = { sub: new Sub(key, afterId, () => this.remove(channel, reading)), busy: false, again: false, readAt: 0 };
    let set = this.byChannel.get(channel);
    if (set) {
      set.add(reading);
      void this.read(reading);
    } else {
      this.byChannel.set(channel, (set = new Set([reading])));
      // Read after the subscription is in place, so no entry falls between the two
      // (for every reader that joined the channel meanwhile too).
      this.subscriber
        .subscribe(channel)
        .catch((err: Error) => this.logger?.warn({ err: err.message }, "stream reader SSUBSCRIBE failed; polling"))
        .finally(() => {
          for (const r of this.byChannel.get(channel) ?? []) void this.read(r);
        });
    }
    return reading.sub;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const set of [...this.byChannel.values()]) for (const r of [...set]) r.sub.close();
    this.subscriber.close();
  }

  private remove(channel: string, reading: Reading): void {
    const set = this.byChannel.get(channel);
    if (!set) return;
    set.delete(reading);
    if (set.size > 0) return;
    this.byChannel.delete(channel);
    if (!this.stopped) void this.subscriber.unsubscribe(channel).catch(() => {});
  }

  /** Reads the stream from the subscription's cursor until it is drained; coalesces overlapping asks. */
  private async read(r: Reading): Promise<void> {
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
