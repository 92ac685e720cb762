// Small in-memory windows for the status page: the last N errors, and a
// per-second token counter for "tokens per second" without a time-series DB.

export interface RecentError {
  /** ms since epoch */
  at: number;
  kind: "request" | "worker" | "redis";
  requestId?: string;
  tenant?: string;
  model?: string;
  worker?: string;
  code: string;
  message: string;
}

export class Ring<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }

  /** Newest first. */
  list(): T[] {
    return [...this.items].reverse();
  }
}

/** Counts per whole second for the last `windowS` seconds. */
export class RateWindow {
  private readonly buckets = new Map<number, number>();

  constructor(
    private readonly windowS = 5,
    private readonly now: () => number = Date.now,
  ) {}

  add(n: number): void {
    const sec = Math.floor(this.now() / 1000);
    this.buckets.set(sec, (this.buckets.get(sec) ?? 0) + n);
    if (this.buckets.size > this.windowS + 2) {
      for (const k of this.buckets.keys()) if (k < sec - this.windowS - 1) this.buckets.delete(k);
    }
  }

  /** Average per second over the last windowS complete seconds plus the current partial one. */
  perSecond(): number {
    const nowMs = this.now();
    const sec = Math.floor(nowMs / 1000);
    let total = 0;
    for (const [k, v] of this.buckets) if (k >= sec - this.windowS) total += v;
    const spanS = this.windowS + (nowMs % 1000) / 1000;
    return total / spanS;
  }
}
