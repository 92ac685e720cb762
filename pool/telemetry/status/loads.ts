// Polls every worker's GetLoads for the metrics and the status page (one
// cheap unary call per worker per interval; only runs while the pool serves
// its HTTP port). Multi-DP workers report one SchedulerLoad per rank: counts
// are summed, ratios averaged.
import type { WorkerEntry } from "../../workers/registry.js";

export interface WorkerLoad {
  running: number;
  waiting: number;
  /** KV cache tokens in use / capacity, 0..1 */
  kvUsage: number;
  /** the engine's prefix-cache hit rate, 0..1 */
  cacheHitRate: number;
  /** the engine's own generation throughput estimate (tokens/s) */
  genThroughput: number;
  /** ms since epoch of the answer */
  at: number;
}

export class LoadPoller {
  private readonly loads = new Map<string, WorkerLoad>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly workers: () => readonly WorkerEntry[],
    private readonly intervalMs: number,
    private readonly timeoutMs = Math.max(200, Math.min(2_000, intervalMs)),
  ) {}

  /** The last answer of the worker, or undefined (never answered, or stale: 3 intervals old). */
  get(address: string): WorkerLoad | undefined {
    const l = this.loads.get(address);
    return l && Date.now() - l.at <= 3 * this.intervalMs + this.timeoutMs ? l : undefined;
  }

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await Promise.all(
        this.workers().map(async (w) => {
          if (w.state === "starting" || w.state === "unreachable") return;
          const r = await w.client.getLoads(this.timeoutMs);
          if (!r.ok) return;
          const ranks = r.value.loads;
          const n = Math.max(1, ranks.length);
          const sum = (f: (l: (typeof ranks)[number]) => number) => ranks.reduce((a, l) => a + f(l), 0);
          this.loads.set(w.address, {
            running: sum((l) => l.numRunningReqs),
            waiting: sum((l) => l.numWaitingReqs),
            kvUsage: sum((l) => l.tokenUsage) / n,
            cacheHitRate: sum((l) => l.cacheHitRate) / n,
            genThroughput: sum((l) => l.genThroughput),
            at: Date.now(),
          });
        }),
      );
    } finally {
      this.busy = false;
    }
  }
}
