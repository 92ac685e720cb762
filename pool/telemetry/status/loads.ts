// The workers' last GetLoads answers as the metrics and the status page show them.
// Multi-DP workers report one SchedulerLoad per rank: counts are summed, ratios
// averaged (workers/loads.ts). The registry's one poller asks each worker once per
// loadsIntervalMs for routing and for this view alike: a second poller of its own
// asked every worker twice a second, which an idle pool and its workers paid for
// (idle, alternated runs: 7-12 ms/s of pool CPU and 2-3 ms/s per simulated worker).
import type { WorkerEntry } from "../../workers/registry.js";
import { loadsCallTimeoutMs } from "../../workers/loads.js";

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

export class WorkerLoads {
  constructor(
    private readonly workers: () => readonly WorkerEntry[],
    private readonly intervalMs: number,
  ) {}

  /** The worker's last answer, or undefined (never answered, or stale: older than 3 intervals and a call's timeout). */
  get(address: string): WorkerLoad | undefined {
    const l = this.workers().find((w) => w.address === address)?.loads;
    if (!l) return undefined;
    const ageMs = performance.now() - l.at;
    if (ageMs > 3 * this.intervalMs + loadsCallTimeoutMs(this.intervalMs)) return undefined;
    return { running: l.running, waiting: l.waiting, kvUsage: l.tokenUsage, cacheHitRate: l.cacheHitRate, genThroughput: l.genThroughput, at: Date.now() - ageMs };
  }
}
