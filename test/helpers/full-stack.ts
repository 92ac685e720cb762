// The whole system in one test process: a private redis-server (or a private
// 3-master Redis Cluster: topology "cluster"), simulated TokenSpeed workers over
// real gRPC, a real pool manager and a real Node edge over real HTTP. Only the
// process boundaries differ from production.
import type { Redis } from "ioredis";
import { pino } from "pino";
import { startNodeEdge, type NodeEdge, type NodeEdgeOptions } from "../../edge/entry-node.js";
import type { EdgeConfigInput } from "../../edge/config.js";
import { seedApiKey, type SeedApiKeyOptions } from "../../edge/tenants.js";
import { startPool } from "../../pool/main.js";
import type { PoolConfigInput } from "../../pool/config.js";
import { startSimWorker, type SimOptions, type SimWorker } from "../../sim/server.js";
import { startRedis, type RedisServer } from "./redis.js";
import { startRedisCluster, type RedisClusterServer } from "../../scripts/redis-cluster.js";
import type { Topology } from "./topology.js";

export type { Topology } from "./topology.js";

export const SIM_MODEL = "qwen3-sim";

type Pool = Awaited<ReturnType<typeof startPool>>;

export interface FullStack {
  topology: Topology;
  /** the redis-server (topology "single") */
  redis: RedisServer | null;
  /** the Redis Cluster (topology "cluster") */
  cluster: RedisClusterServer | null;
  /** a command client for the test's own use (an ioredis Cluster on a cluster, typed as Redis) */
  r: Redis;
  workers: SimWorker[];
  pools: Pool[];
  edges: NodeEdge[];
  /** base URL of the first edge, e.g. http://127.0.0.1:1234 */
  url: string;
  seed(opts: SeedApiKeyOptions): Promise<void>;
  addPool(extra?: Partial<PoolConfigInput>): Promise<Pool>;
  addEdge(config?: EdgeConfigInput, node?: Pick<NodeEdgeOptions, "bodyCheck">): Promise<NodeEdge>;
  stop(): Promise<void>;
}

export interface FullStackOptions {
  workers?: number;
  sim?: SimOptions;
  pool?: Partial<PoolConfigInput>;
  edge?: EdgeConfigInput;
  /** start no pool (tests that drive queueing themselves) */
  noPool?: boolean;
  /** default "single" */
  topology?: Topology;
}

export async function startFullStack(opts: FullStackOptions = {}): Promise<FullStack> {
  const topology = opts.topology ?? "single";
  const redis = topology === "single" ? await startRedis() : null;
  const cluster = topology === "cluster" ? await startRedisCluster() : null;
  const r = redis ? redis.client() : (cluster!.client() as unknown as Redis);
  // what the edge and the pool are pointed at
  const target = redis ? { redisUrl: redis.url } : { redisUrl: "redis://cluster", redisClusterNodes: cluster!.seeds };
  const workers = await Promise.all(Array.from({ length: opts.workers ?? 1 }, () => startSimWorker({ decodeMsPerToken: 1, ...opts.sim })));
  const pools: Pool[] = [];
  const edges: NodeEdge[] = [];
  const logger = pino({ level: process.env.TEST_LOG ?? "silent" });
  const stack: FullStack = {
    topology,
    redis,
    cluster,
    r,
    workers,
    pools,
    edges,
    url: "",
    seed: async (o) => {
      await seedApiKey(r, o);
    },
    async addPool(extra = {}) {
      const pool = await startPool({
        ...target,
        workers: workers.map((w) => w.address),
        logLevel: (process.env.TEST_LOG as "info" | undefined) ?? "silent",
        ...opts.pool,
        ...extra,
      });
      pools.push(pool);
      return pool;
    },
    async addEdge(config = {}, node = {}) {
      const edge = await startNodeEdge({ ...target, port: 0, config: { modelCacheMs: 0, ...opts.edge, ...config }, logger, ...node });
      edges.push(edge);
      return edge;
    },
    async stop() {
      await Promise.all(edges.map((e) => e.close()));
      await Promise.all(pools.map((p) => p.stop().catch(() => {})));
      await Promise.all(workers.map((w) => w.stop(0).catch(() => {})));
      await redis?.stop();
      await cluster?.stop();
    },
  };
  if (!opts.noPool) await stack.addPool();
  stack.url = (await stack.addEdge()).url;
  return stack;
}
