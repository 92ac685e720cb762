// A relay's subscription to one response stream on the Node edge: the readers
// (edge/node/pushed-streams.ts, edge/node/cluster-streams.ts) push entries in, the
// relay waits for them with next(). Nothing here imports Node APIs.
import { compareIds, type ResponseSubscription, type StreamEntry } from "./reader.js";

/**
 * One reader of one stream (edge/node/stream-readings.ts keeps them for the Node readers).
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
