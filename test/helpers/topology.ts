// One private Redis for a test file in either topology: a redis-server, or a
// 3-master Redis Cluster. Suites that must hold on both take a Topology and use
// this, so the same assertions run against both (test/cluster/ runs the cluster side).
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "./redis.js";
import { startRedisCluster, type RedisClusterServer } from "../../scripts/redis-cluster.js";

export type Topology = "single" | "cluster";

export interface TestRedis {
  topology: Topology;
  /** what startPool / startNodeEdge are given */
  target: { redisUrl: string; redisClusterNodes?: string[] };
  /** a new command client (an ioredis Cluster on a cluster, typed as Redis: same command API) */
  client(): Redis;
  server: RedisServer | null;
  cluster: RedisClusterServer | null;
  stop(): Promise<void>;
}

export async function startTestRedis(topology: Topology): Promise<TestRedis> {
  if (topology === "single") {
    const server = await startRedis();
    return { topology, target: { redisUrl: server.url }, client: () => server.client(), server, cluster: null, stop: () => server.stop() };
  }
  const cluster = await startRedisCluster();
  return {
    topology,
    // redisUrl is ignored when cluster nodes are given
    target: { redisUrl: "redis://cluster", redisClusterNodes: cluster.seeds },
    client: () => cluster.client() as unknown as Redis,
    server: null,
    cluster,
    stop: () => cluster.stop(),
  };
}

/** The pool/edge connection settings of a RedisServer or a TestRedis. */
export function targetOf(redis: RedisServer | TestRedis): TestRedis["target"] {
  return "target" in redis ? redis.target : { redisUrl: redis.url };
}
