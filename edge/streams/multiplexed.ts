// The Node reader: one blocking XREAD per process over every open response
// stream, on a dedicated connection, fanned out to the SSE streams waiting on
// them. Hundreds of open streams cost one extra Redis connection.
//
// The XREAD names the streams open when it started. When a new stream opens,
// the loop must re-issue it with the new key: the command connection sends
// `CLIENT UNBLOCK <reader id>`, which ends the XREAD early (as a timeout), and
// the loop rebuilds its key list. If the UNBLOCK reaches Redis before the
// XREAD has blocked, it answers 0 and we retry shortly, so a registration is
// never left waiting for the block timeout. New streams are gathered for
// joinDelayMs first, so a burst of them interrupts the XREAD once.
//
// Nothing here imports Node APIs; it is "Node's" only because workerd cannot
// keep a connection across requests.
import type { Redis } from "ioredis";
import type { Logger } from "../config.js";
import { compareIds, decodeEntry, type RawEntry, type ResponseStreamReader, type ResponseSubscription, type StreamEntry } from "./reader.js";

/**
 * One reader of one stream (also used by the cluster reader, edge/node/cluster-streams.ts).
 * A relay calls next() once per batch of tokens, so a wait costs no timer and no abort
 * listener of its own: one timer per subscription is re-armed (refresh) for each wait,
 * and one listener per signal stays for the subscription's life. Creating and removing
 * both for every token was ~6% of the Node edge's CPU at 64 streams.
 */
export class Sub implements ResponseSubscription {
  buffer: StreamEntry[] = [];
  waiter: (() => void) | null = null;
  closed = false;
  /** Node's Timeout (refresh() re-arms it); typed loosely as this file also builds for workerd */
  private timer: { refresh?(): unknown } | undefined;
  private timerMs = -1;
  private signal: AbortSignal | undefined;
  private readonly wake = () => this.waiter?.();

  constructor(
    readonly key: string,
    /** id of the last entry delivered into `buffer` */
    public cursor: string,
    private readonly onClose: (s: Sub) => void,
  ) {}

  push(entries: StreamEntry[]): void {
    for (const e of entries) {
      if (compareIds(e.id, this.cursor) <= 0) continue;
      this.buffer.push(e);
      this.cursor = e.id;
    }
    if (this.buffer.length && this.waiter) this.waiter();
  }

  next(timeoutMs: number, signal?: AbortSignal): Promise<StreamEntry[]> {
    if (this.buffer.length || this.closed || signal?.aborted) return Promise.resolve(this.buffer.splice(0));
    if (signal !== this.signal) {
      this.signal?.removeEventListener("abort", this.wake);
      this.signal = signal;
      signal?.addEventListener("abort", this.wake, { once: true });
    }
    this.armTimer(Math.max(0, timeoutMs));
    return new Promise((resolve) => {
      this.waiter = () => {
        this.waiter = null;
        resolve(this.buffer.splice(0));
      };
    });
  }

  /** Fires `ms` from now. A stale firing (no waiter) does nothing; a waiter's wait started when it was armed. */
  private armTimer(ms: number): void {
    if (this.timer?.refresh && ms === this.timerMs) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    this.timerMs = ms;
    this.timer = setTimeout(this.wake, ms) as unknown as { refresh?(): unknown };
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer as unknown as Parameters<typeof clearTimeout>[0]);
    this.timer = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    this.signal?.removeEventListener("abort", this.wake);
    this.waiter?.();
    this.onClose(this);
  }
}

export interface MultiplexedReaderOptions {
  /** Upper bound of one XREAD BLOCK (ms); registrations interrupt it anyway. */
  blockMs?: number;
  /** Entries read per stream per XREAD. */
  count?: number;
  /**
   * How long a new stream waits before the XREAD in flight is interrupted to include it.
   * A burst of arrivals then costs one CLIENT UNBLOCK and one re-issued XREAD, not one
   * each (every re-issue names every open stream). A new request's first entry cannot
   * come that soon anyway: a pool must claim it, render its prompt and prefill it.
   */
  joinDelayMs?: number;
  logger?: Logger;
}

export class MultiplexedStreamReader implements ResponseStreamReader {
  private readonly blocker: Redis;
  private readonly subs = new Map<string, Set<Sub>>();
  private readonly blockMs: number;
  private readonly count: number;
  private readonly joinDelayMs: number;
  private joinTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly logger: Logger | undefined;
  private blockerId: number | null = null;
  private needId = true;
  /** an XREAD is in flight */
  private reading = false;
  /** the set of subscriptions changed since the in-flight XREAD was built */
  private dirty = false;
  private unblocking = false;
  private wakeLoop: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;

  /** `command` is the shared command connection (sends CLIENT UNBLOCK); the reader makes its own blocking one. */
  constructor(
    private readonly command: Redis,
    opts: MultiplexedReaderOptions = {},
  ) {
    this.blockMs = opts.blockMs ?? 5_000;
    this.count = opts.count ?? 256;
    this.joinDelayMs = opts.joinDelayMs ?? 2;
    this.logger = opts.logger;
    this.blocker = command.duplicate({ connectionName: "sg-edge-xread", lazyConnect: true });
    // A reconnect gives the blocking connection a new client id.
    this.blocker.on("ready", () => (this.needId = true));
    this.blocker.on("error", (err: Error) => this.logger?.warn({ err: err.message }, "stream reader connection error"));
  }

  /** Number of open subscriptions (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  open(_conn: Redis, key: string, afterId: string): ResponseSubscription {
    if (this.stopped) throw new Error("stream reader is closed");
    const sub = new Sub(key, afterId, (s) => this.remove(s));
    let set = this.subs.get(key);
    if (!set) this.subs.set(key, (set = new Set()));
    set.add(sub);
    this.dirty = true;
    if (!this.loop) this.loop = this.run();
    if (this.wakeLoop) this.wakeLoop();
    else if (this.reading) this.unblockSoon();
    return sub;
  }

  private unblockSoon(): void {
    if (this.joinDelayMs <= 0) return void this.unblock();
    this.joinTimer ??= setTimeout(() => {
      this.joinTimer = undefined;
      void this.unblock();
    }, this.joinDelayMs);
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.joinTimer !== undefined) clearTimeout(this.joinTimer);
    for (const set of this.subs.values()) for (const s of set) s.close();
    this.wakeLoop?.();
    if (this.reading && this.blockerId !== null) await this.command.client("UNBLOCK", this.blockerId).catch(() => 0);
    this.blocker.disconnect();
    await this.loop?.catch(() => {});
  }

  private remove(sub: Sub): void {
    const set = this.subs.get(sub.key);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.subs.delete(sub.key);
    // No unblock needed: a stream nobody reads just drops out of the next XREAD.
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.subs.size === 0) {
        await new Promise<void>((r) => (this.wakeLoop = r));
        this.wakeLoop = null;
        continue;
      }
      try {
        if (this.needId) {
          if (this.blocker.status === "wait") await this.blocker.connect();
          this.blockerId = Number(await this.blocker.client("ID"));
          this.needId = false;
        }
        // Build the key list and start the XREAD in the same tick, so any
        // registration after this point sees reading = true and unblocks it.
        const streamKeys: string[] = [];
        const ids: string[] = [];
        for (const [key, set] of this.subs) {
          let min: string | null = null;
          for (const s of set) if (min === null || compareIds(s.cursor, min) < 0) min = s.cursor;
          streamKeys.push(key);
          ids.push(min ?? "$");
        }
        this.dirty = false;
        this.reading = true;
        let res: [string, RawEntry[]][] | null;
        try {
          res = (await this.blocker.xread("COUNT", this.count, "BLOCK", this.blockMs, "STREAMS", ...streamKeys, ...ids)) as
            | [string, RawEntry[]][]
            | null;
        } finally {
          this.reading = false;
        }
        if (res) this.dispatch(res, new Map(streamKeys.map((k, i) => [k, ids[i]!])));
      } catch (err) {
        if (this.stopped) break;
        this.logger?.warn({ err: (err as Error).message }, "stream reader XREAD failed; retrying");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Hands each key's entries to its readers. `from` is where this XREAD started per key:
   * a reader that joined meanwhile from an earlier entry (a resume from "0" while the
   * original relay is still attached) would miss the entries in between, so it gets
   * nothing now; the next XREAD starts from its cursor.
   */
  private dispatch(res: [string, RawEntry[]][], from: ReadonlyMap<string, string>): void {
    for (const [key, raw] of res) {
      const set = this.subs.get(key);
      if (!set || raw.length === 0) continue;
      const start = from.get(key);
      const entries = raw.map(decodeEntry);
      for (const s of set) if (start === undefined || start === "$" || compareIds(start, s.cursor) <= 0) s.push(entries);
    }
  }

  /** Interrupts the in-flight XREAD so it is re-issued with the new key set. */
  private async unblock(): Promise<void> {
    if (this.unblocking) return;
    this.unblocking = true;
    try {
      // Bounded: after a reconnect the id may be stale until the next loop
      // turn, and then the block timeout is the fallback.
      for (let tries = 0; tries < 500 && this.reading && this.dirty && !this.stopped; tries++) {
        if (this.blockerId === null) break;
        const n = Number(await this.command.client("UNBLOCK", this.blockerId));
        if (n === 1) {
          // Wait for the loop to rebuild before deciding whether to unblock again.
          await new Promise((r) => setTimeout(r, 0));
          continue;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, "CLIENT UNBLOCK failed");
    } finally {
      this.unblocking = false;
    }
  }
}
