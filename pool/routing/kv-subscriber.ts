// Keeps one SubscribeKvEvents stream per worker feeding the KvIndex (wire §3.10, §8.1):
// - subscribe with start_sequence_number = last seen (workers may ignore it: no replay);
// - UNIMPLEMENTED => stop for good (the worker has no KV events: the approximate index is used);
// - any other error or a clean end => reconnect with exponential backoff 100 ms -> 30 s,
//   reset once a subscription is live;
// - per batch: skip stale (seq <= last, once last > 0); a gap (seq > last + 1) means we
//   missed stored/removed events, so the worker's event index is dropped (it would lie)
//   and we reconnect at once. Workers do not replay, so the first batch of a new stream
//   that does not follow `last` (events lost while away, or a restarted worker whose
//   counter began again) also drops the index, and is taken as the new baseline;
// - block size is learned from the first stored block (WorkerKvEvents).
// While not live the index answers from the approximation of what this pool sent.
import { EventEmitter } from "node:events";
import { status as Status } from "@grpc/grpc-js";
import type { KvEventBatch } from "../../contract/grpc/tokenspeed/common_pb.js";
import type { WorkerClient } from "../workers/client.js";
import type { RpcError } from "../workers/rpc-error.js";
import type { KvIndex } from "./kv-index.js";

export const KV_BACKOFF_MIN_MS = 100;
export const KV_BACKOFF_MAX_MS = 30_000;

export type KvSubscriberState = "connecting" | "live" | "backoff" | "unimplemented" | "stopped";

/**
 * Emits "state" (KvSubscriberState), "batch" (KvEventBatch, after applying it),
 * "gap" ({ last, got }) for tests and logs.
 */
export class KvSubscriber extends EventEmitter {
  state: KvSubscriberState = "connecting";
  lastSeq = 0n;
  reconnects = 0;
  private cancel: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = KV_BACKOFF_MIN_MS;
  /** The next batch is the first of a new stream. */
  private firstOnStream = true;

  constructor(
    readonly address: string,
    private readonly client: WorkerClient,
    private readonly index: KvIndex,
  ) {
    super();
  }

  start(): void {
    this.connect();
  }

  private setState(s: KvSubscriberState): void {
    if (this.state === s) return;
    this.state = s;
    this.index.setLive(this.address, s === "live");
    this.emit("state", s);
  }

  private connect(): void {
    if (this.state === "stopped" || this.state === "unimplemented") return;
    this.setState("connecting");
    this.firstOnStream = true;
    const mine = this.client.subscribeKvEvents(this.lastSeq, {
      onLive: () => {
        if (this.cancel !== mine) return;
        this.backoffMs = KV_BACKOFF_MIN_MS;
        this.setState("live");
      },
      onBatch: (b) => {
        if (this.cancel === mine) this.onBatch(b);
      },
      onEnd: (e) => {
        if (this.cancel === mine) this.onEnd(e);
      },
    });
    this.cancel = mine;
  }

  private onBatch(b: KvEventBatch): void {
    const seq = b.sequenceNumber;
    if (this.firstOnStream) {
      // First batch of a (re)connection: continuous with what we had, or not (events
      // lost while away, or the worker restarted): then the index is stale, rebuild it.
      this.firstOnStream = false;
      if (this.lastSeq > 0n && seq !== this.lastSeq + 1n) {
        this.emit("gap", { last: this.lastSeq, got: seq });
        this.index.resetEvents(this.address);
      }
    } else if (this.lastSeq > 0n) {
      if (seq <= this.lastSeq) return; // stale or duplicate
      if (seq > this.lastSeq + 1n) {
        // A gap inside one stream: drop the stale index and reconnect at once.
        this.emit("gap", { last: this.lastSeq, got: seq });
        this.index.resetEvents(this.address);
        this.reconnect(0);
        return;
      }
    }
    this.lastSeq = seq;
    this.index.applyEvents(this.address, b.events);
    this.emit("batch", b);
  }

  private onEnd(e: RpcError | undefined): void {
    this.cancel = undefined;
    if (this.state === "stopped") return;
    if (e?.code === Status.UNIMPLEMENTED) {
      this.setState("unimplemented");
      return;
    }
    // Events published while we are away are lost (no replay): the next batch is a gap.
    this.reconnect(this.backoffMs);
    this.backoffMs = Math.min(KV_BACKOFF_MAX_MS, this.backoffMs * 2);
  }

  private reconnect(delayMs: number): void {
    const c = this.cancel;
    this.cancel = undefined;
    c?.();
    if (this.state === "stopped") return;
    this.setState("backoff");
    this.reconnects++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delayMs);
    this.timer.unref();
  }

  /** Drops the stream as a network failure would (tests). */
  drop(): void {
    const c = this.cancel;
    this.cancel = undefined;
    c?.();
    this.onEnd(undefined);
  }

  stop(): void {
    this.setState("stopped");
    clearTimeout(this.timer);
    const c = this.cancel;
    this.cancel = undefined;
    c?.();
  }
}
