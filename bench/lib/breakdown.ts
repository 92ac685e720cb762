// Where a full-path request's time goes, from the gateway's own Prometheus
// histograms scraped before and after a run (means over the run's requests):
// edge arrival -> first chunk sent, queue wait, pool claim -> first token and the
// pool's phases before its first Generate call (template, tokenize, dispatch).
import { METRIC } from "../../contract/metrics.js";
import { scrape, sum, type Sample } from "./prom.js";

export interface BreakdownSources {
  /** the edge's /metrics URL */
  edgeMetrics?: string;
  /** the pool's internal HTTP base URL (its /metrics) */
  poolHttp?: string;
}

/** Mean ms per request of each stage (undefined where no observation was made). */
export interface Breakdown {
  edge_ttft_ms?: number;
  queue_wait_ms?: number;
  pool_ttft_ms?: number;
  template_ms?: number;
  tokenize_ms?: number;
  prepare_ms?: number;
  dispatch_ms?: number;
}

interface Snapshot {
  edge: Sample[];
  pool: Sample[];
}

async function snapshot(src: BreakdownSources): Promise<Snapshot> {
  const [edge, pool] = await Promise.all([
    src.edgeMetrics ? scrape(src.edgeMetrics).catch(() => []) : [],
    src.poolHttp ? scrape(`${src.poolHttp}/metrics`).catch(() => []) : [],
  ]);
  return { edge, pool };
}

function meanMs(before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const n = sum(after, `${name}_count`, labels) - sum(before, `${name}_count`, labels);
  if (n <= 0) return undefined;
  const s = sum(after, `${name}_sum`, labels) - sum(before, `${name}_sum`, labels);
  return Math.round((s / n) * 1000 * 100) / 100;
}

/** Starts a measurement; the returned function scrapes again and gives the means over what happened in between. */
export async function breakdownMeter(src: BreakdownSources): Promise<() => Promise<Breakdown>> {
  const before = await snapshot(src);
  return async () => {
    const after = await snapshot(src);
    const phase = (p: string) => meanMs(before.pool, after.pool, METRIC.poolPhase, { phase: p });
    return {
      edge_ttft_ms: meanMs(before.edge, after.edge, METRIC.ttft),
      queue_wait_ms: meanMs(before.pool, after.pool, METRIC.queueWait),
      pool_ttft_ms: meanMs(before.pool, after.pool, METRIC.ttft),
      template_ms: phase("template"),
      tokenize_ms: phase("tokenize"),
      prepare_ms: phase("prepare"),
      dispatch_ms: phase("dispatch"),
    };
  };
}
