// The Node reader on a single Redis: the pool's append scripts push each stream's
// new entries, with their ids, to the channel of every edge process relaying it
// (keys.pushTo(rid) names them; keys.edgeChannel is ours). So relaying a pool's turn of
// tokens costs the edge one message read, and Redis one SPUBLISH from the script that
// wrote them (append-many.lua puts every stream of its call in one message): no XREAD
// to re-issue after every batch, naming every open stream (at 256 open streams that
// re-issued XREAD was over half of Redis's command time).
//
// A message also carries the id of the entry before its own, so a reader knows it
// missed nothing: when that id is past the subscription's cursor (entries written
// before it registered, or a message lost while the subscriber reconnected) the
// reader catches up with a read from its cursor instead (edge/node/stream-readings.ts).
// After a reconnect every open stream is read; a slow poll reads streams nothing
// reached for pollMs (a pool whose scripts do not push: an older one mid-upgrade).
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { edgeChannel, pushToOfOut, REQUEST_TTL_S } from "../../contract/queue/keys.js";
import type { Logger } from "../config.js";
import { compareIds, decodeEntry, type ResponseStreamReader, type ResponseSubscription, type StreamEntry } from "../streams/reader.js";
import { StreamReadings } from "./stream-readings.js";

export interface PushedStreamReaderOptions {
  logger?: Logger;
  /** safety-net read of every stream nothing reached for this long (ms) */
  pollMs?: number;
  /** entries per catch-up read */
  count?: number;
}

export class PushedStreamReader implements ResponseStreamReader {
  readonly pushChannel = edgeChannel(randomBytes(8).toString("hex"));
  private readonly readings: StreamReadings;
  private readonly subscriber: Redis;
  private readonly logger: Logger | undefined;
  private subscribed = false;

  /** `command`: the edge's command connection; the reader subscribes on a connection of its own. */
  constructor(
    private readonly command: Redis,
    opts: PushedStreamReaderOptions = {},
  ) {
    this.logger = opts.logger;
    this.readings = new StreamReadings(command, { logger: opts.logger, pollMs: opts.pollMs ?? 2_000, count: opts.count });
    this.subscriber = command.duplicate({
      connectionName: "sg-edge-push",
      lazyConnect: true,
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
      // subscribed again below, so the catch-up read follows the subscription
      autoResubscribe: false,
    });
    this.subscriber.on("smessage", (_channel: string, message: string) => this.deliver(message));
    this.subscriber.on("error", (err: Error) => this.logger?.warn({ err: err.message }, "stream push connection error"));
    this.subscriber.on("ready", () => void this.resubscribe());
  }

  /** Subscribes to this process's channel; the edge registers it only once this resolved. */
  async start(): Promise<void> {
    if (this.subscriber.status === "wait") await this.subscriber.connect();
    await this.subscriber.ssubscribe(this.pushChannel);
    this.subscribed = true;
  }

  get size(): number {
    return this.readings.size;
  }

  open(_conn: Redis, key: string, afterId: string, registered = false): ResponseSubscription {
    const { reading } = this.readings.add(key, afterId, () => {});
    if (!registered) {
      // Commands on one connection run in order: the channel is registered before
      // the read, so every entry is either read now or pushed afterwards.
      const pushTo = pushToOfOut(key);
      this.command.sadd(pushTo, this.pushChannel).catch(() => {});
      this.command.expire(pushTo, REQUEST_TTL_S).catch(() => {});
      void this.readings.read(reading);
    }
    return reading.sub;
  }

  async close(): Promise<void> {
    this.readings.close();
    this.subscriber.disconnect();
  }

  /** A reconnected subscriber: subscribe again, then read every open stream (messages may have been lost meanwhile). */
  private async resubscribe(): Promise<void> {
    if (!this.subscribed) return; // the first connection: start() subscribes
    try {
      await this.subscriber.ssubscribe(this.pushChannel);
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, "stream push SSUBSCRIBE failed; polling");
    }
    this.readings.readAll();
  }

  /**
   * One or more streams' parts, joined by an empty line (append-many.lua gathers one call's
   * parts for this channel); each part "<out key>\n<id before>\n<id>\n<json>[\n<id>\n<json>...]".
   */
  private deliver(message: string): void {
    if (!message.includes("\n\n")) return this.deliverPart(message);
    for (const part of message.split("\n\n")) this.deliverPart(part);
  }

  private deliverPart(part: string): void {
    const parts = part.split("\n");
    const set = this.readings.of(parts[0]!);
    if (!set || parts.length < 4) return;
    const before = parts[1]!;
    const last = parts[parts.length - 2]!;
    let entries: StreamEntry[] | undefined;
    for (const r of set) {
      if (compareIds(last, r.sub.cursor) <= 0) continue; // it has them already
      if (compareIds(before, r.sub.cursor) > 0) {
        void this.readings.read(r); // entries between its cursor and these: read them all
        continue;
      }
      if (!entries) {
        entries = [];
        for (let i = 2; i + 1 < parts.length; i += 2) entries.push(decodeEntry([parts[i]!, ["e", parts[i + 1]!]]));
      }
      r.sub.push(entries);
      r.readAt = performance.now();
    }
  }
}
