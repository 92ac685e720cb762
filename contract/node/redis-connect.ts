// Opens the Redis connection every Node deployable uses (edge, pool, admin CLI):
// one server (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES seeds). Node-only
// (ioredis values); the edge's runtime-free core only sees the `Redis` command API.
//
// A Cluster answers the same command API as a Redis, so it is returned typed as
// `Redis`; code that must know (pipelines across slots, the stream reader, sharded
// pub/sub) checks `isCluster`, which ioredis sets on both classes.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { parseHostPort } from "../env.js";

export interface RedisTarget {
  /** redis[s]://… of one server; ignored when clusterNodes is set */
  url?: string;
  /** cluster seeds "host:port" (any live node; the rest is discovered) */
  clusterNodes?: readonly string[];
  /** overrides a password in url; on a cluster, every node's password */
  password?: string;
}

/** Options that make sense on both topologies (per connection). */
export interface ConnectOptions {
  connectionName?: string;
  lazyConnect?: boolean;
  maxRetriesPerRequest?: number | null;
  enableAutoPipelining?: boolean;
  /** commands sent on their own even with auto-pipelining (one server only) */
  autoPipeliningIgnoredCommands?: string[];
}

/**
 * Cluster options tuned for a fast failover: a command that hits a dead master
 * waits for the slot map to name its replica (retryDelayOnFailover, a refresh with
 * a short timeout) instead of failing at once or waiting for ioredis's defaults;
 * reads go to masters only (replicas lag: a stream read there could miss entries).
 */
export function clusterOptions(target: RedisTarget, o: ConnectOptions): ClusterOptions {
  const redisOptions: RedisOptions = {
    connectTimeout: 1_000,
    ...(target.password ? { password: target.password } : {}),
    ...(o.connectionName ? { connectionName: o.connectionName } : {}),
    ...(o.maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest: o.maxRetriesPerRequest } : {}),
  };
  return {
    scaleReads: "master",
    enableOfflineQueue: true,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    // a failover takes about cluster-node-timeout plus an election; 16 redirections × 200 ms ≈ 3 s of retries
    maxRedirections: 32,
    slotsRefreshTimeout: 1_000,
    slotsRefreshInterval: 2_000,
    lazyConnect: o.lazyConnect ?? false,
    // Never on a cluster: ioredis groups auto-pipelined commands by the slot of their first
    // argument, which for our scripts (EVALSHA-style, numkeys first) is the key count, not a
    // key; the pipeline then mixes slots and fails ("same slots allocation group").
    enableAutoPipelining: false,
    // sharded pub/sub goes through contract/node/shard-subscriber.ts instead
    shardedSubscribers: false,
    redisOptions,
  };
}

/** A Redis or a Cluster (typed as Redis: the same command API; see the header). */
export function connectRedis(target: RedisTarget, o: ConnectOptions = {}): Redis {
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    const cluster = new Cluster(target.clusterNodes.map(parseHostPort), clusterOptions(target, o));
    return cluster as unknown as Redis;
  }
  if (!target.url) throw new Error("no Redis configured: set REDIS_URL or REDIS_CLUSTER_NODES");
  return new Redis(target.url, {
    ...(target.password ? { password: target.password } : {}),
    ...(o.connectionName ? { connectionName: o.connectionName } : {}),
    ...(o.lazyConnect !== undefined ? { lazyConnect: o.lazyConnect } : {}),
    ...(o.maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest: o.maxRetriesPerRequest } : {}),
    ...(o.enableAutoPipelining ? { enableAutoPipelining: true } : {}),
    ...(o.autoPipeliningIgnoredCommands ? { autoPipeliningIgnoredCommands: o.autoPipeliningIgnoredCommands } : {}),
  });
}
