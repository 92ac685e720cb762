// The Worker's Redis connection for one request: one server (REDIS_URL) or a
// Redis Cluster (REDIS_CLUSTER_NODES). workerd cannot reuse a socket across
// requests, so every request connects, uses and closes its own client; these
// options are about that lifetime: connect explicitly (a dead Redis is a 503
// at once), never reconnect or retry on a timer that would outlive the request
// (its I/O context is gone by then), skip ready checks (each would cost every
// request another round trip), and bound the connect.
//
// A Cluster client asks a seed for the slot map (CLUSTER SLOTS) on connect and
// then opens a socket to each master the request's keys live on: one more round
// trip than a single server, and no state kept between requests. MOVED/ASK within
// the request are followed as on Node.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { parseHostPort } from "../../contract/env.js";

/** Options of one per-request connection to a single server (or to one cluster node). */
export function workerRedisOptions(password?: string): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    connectTimeout: 5_000,
    autoResubscribe: false,
    enableReadyCheck: false,
    // Sent with the first command (no extra round trip); lets operators count
    // the Worker's connections in CLIENT LIST.
    connectionName: "sg-edge-worker",
    ...(password ? { password } : {}),
  };
}

/** Options of one per-request Cluster client. */
export function workerClusterOptions(password?: string): ClusterOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: true,
    enableReadyCheck: false,
    // the slot map is read once, at connect; no refresh timer
    slotsRefreshInterval: 0,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: () => null,
    // a failover during the request: follow the new slot map for ~3 s, then fail (503)
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    // replicas lag: a stream read there could miss entries
    scaleReads: "master",
    // same reason as on Node (contract/node/redis-connect.ts): our scripts' first argument is not a key
    enableAutoPipelining: false,
    redisOptions: workerRedisOptions(password),
  };
}

export interface WorkerRedisTarget {
  url?: string;
  /** "host:port" seeds; set = a Cluster */
  clusterNodes?: readonly string[];
  password?: string;
}

/** A not yet connected client for one request (a Cluster is typed as Redis: the same command API). */
export function newRequestRedis(target: WorkerRedisTarget): Redis {
  if (target.clusterNodes?.length) {
    return new Cluster(target.clusterNodes.map(parseHostPort), workerClusterOptions(target.password)) as unknown as Redis;
  }
  if (!target.url) throw new Error("no Redis configured");
  return new Redis(target.url, workerRedisOptions(target.password));
}
