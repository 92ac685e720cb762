// Scenario "cluster": the same streamed sweep through a gateway on one Redis and
// through a second gateway (its own simulated workers, pool and edge) on a
// 3-master / 3-replica Redis Cluster, level by level in one run, each level next to
// its direct-gRPC baseline. What the cluster costs: slot-routed commands, sharded
// pub/sub wake-ups and per-stream notifications and reads instead of entries pushed
// to each edge process.
import { Redis } from "ioredis";
import { startStack, freePort } from "../../scripts/stack.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedisCluster } from "../../scripts/redis-cluster.js";
import { round } from "../lib/stats.js";
import { cpuSplit } from "../lib/proc.js";
import type { Table } from "../lib/report.js";
import { runLevel, warmUp, type PathResult, type Target } from "./streams.js";

export interface TopologyParams {
  /** the single-Redis gateway the other scenarios use */
  single: Target;
  levels: number[];
  tokens: number;
  rounds: number;
  workers: number;
  simArgs: string[];
  /** streams through the cluster's gateway before measuring, as bench/run.ts warms the single one */
  warmup?: number;
}

export type TopologyRow = PathResult & { topology: "single Redis" | "Redis Cluster (3+3)" };

export async function runTopologies(p: TopologyParams): Promise<{ rows: TopologyRow[]; table: Table }> {
  const cluster = await startRedisCluster();
  const stack = await startStack({
    redisClusterNodes: cluster.seeds,
    simWorkers: p.workers,
    edgePort: await freePort(),
    simArgs: p.simArgs,
    edgeEnv: { LOG_LEVEL: "warn", EDGE_METRICS_PORT: "0" },
    poolEnv: { LOG_LEVEL: "warn", POOL_HTTP_PORT: "0" },
  });
  const rows: TopologyRow[] = [];
  try {
    const apiKey = `sk-bench-cluster-${Date.now()}`;
    await seedApiKey(cluster.client() as unknown as Redis, { tenantId: "bench-cluster", key: apiKey });
    const onCluster: Target = { baseUrl: stack.baseUrl, apiKey, model: p.single.model, workerAddrs: stack.workerAddrs, gatewayPids: { edge: stack.edge.pid, pool: stack.pool.pid, redis: cluster.nodes.map((n) => n.proc.pid!) } };
    if (p.warmup) await warmUp(onCluster, p.warmup, p.tokens);
    for (const c of p.levels) {
      const requests = Math.max(c, 8) * p.rounds;
      for (const [topology, t] of [["single Redis", p.single], ["Redis Cluster (3+3)", onCluster]] as const) {
        for (const r of await runLevel(t, c, p.tokens, requests)) rows.push({ ...r, topology });
      }
    }
  } finally {
    await stack.stop();
    await cluster.stop();
  }
  const table: Table = {
    title: `One Redis vs a Redis Cluster (3 masters + 3 replicas): streams of ${p.tokens} tokens, each level next to its direct gRPC baseline`,
    columns: ["concurrency", "topology", "TTFT p50 ms (direct)", "TTFT p99 ms", "ITL p99 ms", "tokens/s (ratio to direct)", "gateway CPU ms / 1k tokens (edge + pool + redis)", "errors"],
    rows: p.levels.flatMap((c) =>
      (["single Redis", "Redis Cluster (3+3)"] as const).map((topology) => {
        const d = rows.find((r) => r.concurrency === c && r.topology === topology && r.path === "direct")!;
        const f = rows.find((r) => r.concurrency === c && r.topology === topology && r.path === "full")!;
        return [
          c,
          topology,
          `${f.ttft_p50_ms} (${d.ttft_p50_ms})`,
          f.ttft_p99_ms,
          f.itl_p99_ms,
          `${f.tokens_per_s} (${round(f.tokens_per_s / d.tokens_per_s, 3)})`,
          cpuSplit(f.gateway_cpu_ms_per_1k_tokens),
          f.errors,
        ];
      }),
    ),
    notes: ["The cluster's Redis CPU is its six redis-servers' (replicas included)."],
  };
  return { rows, table };
}
