// The Node reader on a Redis Cluster. There a script may publish only on a channel
// of its own slot, and every request's stream has a slot of its own, so the
// single-Redis design (the pool pushes the entries themselves on one channel per
// edge process, edge/node/pushed-streams.ts) cannot work. Instead:
//  - the pool's append.lua SPUBLISHes on the stream's shard channel
//    (keys.streamChannel, same slot) after each write;
//  - this reader SSUBSCRIBEs to the channels of the streams it relays (one subscriber
//    connection per master, re-placed after a failover: contract/node/shard-subscriber.ts), and on
//    a message reads the stream from its cursor with a non-blocking single-key XREAD
//    (routed by the Cluster client, which follows MOVED/ASK and failovers);
//  - every pollMs it also reads every open stream no message made it read in that
//    time (edge/node/stream-readings.ts): a message lost while a subscriber was
//    reconnecting (a failover) delays entries by at most about 2 x pollMs.
// Open streams still cost a fixed number of connections (one command and one
// subscriber connection per master), never one per stream.
import type { Redis } from "ioredis";
import type { ShardSubscriber } from "../../contract/node/shard-subscriber.js";
import { outOfStreamChannel, streamChannelOfOut } from "../../contract/queue/keys.js";
import type { Logger } from "../config.js";
import type { ResponseStreamReader, ResponseSubscription } from "../streams/reader.js";
import { StreamReadings } from "./stream-readings.js";

export interface ClusterStreamReaderOptions {
  logger?: Logger;
  /** safety-net read of every open stream (ms) */
  pollMs?: number;
  /** entries per read */
  count?: number;
}

export class ClusterStreamReader implements ResponseStreamReader {
  private readonly readings: StreamReadings;
  private readonly logger: Logger | undefined;

  /** `command`: the edge's Cluster client; `subscriber`: this reader's own shard subscriber. */
  constructor(
    command: Redis,
    private readonly subscriber: ShardSubscriber,
    opts: ClusterStreamReaderOptions = {},
  ) {
    this.logger = opts.logger;
    this.readings = new StreamReadings(command, { logger: opts.logger, pollMs: opts.pollMs ?? 1_000, count: opts.count });
    subscriber.onMessage((channel: string) => {
      for (const r of this.readings.of(outOfStreamChannel(channel)) ?? []) void this.readings.read(r);
    });
  }

  get size(): number {
    return this.readings.size;
  }

  open(_conn: unknown, key: string, afterId: string): ResponseSubscription {
    const { reading, firstOfKey } = this.readings.add(key, afterId, (last) => void this.subscriber.unsubscribe(streamChannelOfOut(last)).catch(() => {}));
    if (!firstOfKey) {
      void this.readings.read(reading);
      return reading.sub;
    }
    // Read after the subscription is in place, so no entry falls between the two
    // (for every reader that joined the stream meanwhile too).
    this.subscriber
      .subscribe(streamChannelOfOut(key))
      .catch((err: Error) => this.logger?.warn({ err: err.message }, "stream reader SSUBSCRIBE failed; polling"))
      .finally(() => {
        for (const r of this.readings.of(key) ?? []) void this.readings.read(r);
      });
    return reading.sub;
  }

  async close(): Promise<void> {
    this.readings.close();
    this.subscriber.close();
  }
}
