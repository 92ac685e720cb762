// Node entry: parses the environment once (failing loudly on a bad value),
// builds the Node implementations of EdgeDeps — one shared command
// connection and one stream reader per process — and serves the
// app with @hono/node-server. Run directly (`npm run edge`) it prints one JSON
// line {"ready":true,"url":...} on stdout when listening (scripts/stack.ts waits for it).
import { serve, type ServerType } from "@hono/node-server";
import { connectRedis } from "../contract/node/redis-connect.js";
import { shardSubscriber } from "../contract/node/shard-subscriber.js";
import { ClusterStreamReader } from "./node/cluster-streams.js";
import { PushedStreamReader } from "./node/pushed-streams.js";
import { directSse } from "./node/sse-direct.js";
import { nodeRequestIo } from "./node/request-io.js";
import { coalesceWrites } from "../contract/node/coalesce-writes.js";
import { pathToFileURL } from "node:url";
import { availableParallelism } from "node:os";
import { pino } from "pino";
import { createApp } from "./app.js";
import { EdgeLifecycle } from "./lifecycle.js";
import type { EdgeConfigInput, Logger } from "./config.js";
import { openAdmission, type Admission } from "./admission.js";
import { quotaAdmission } from "./quota-admission.js";
import { PromEdgeMetrics, serveMetrics, type MetricsServer } from "./node/metrics-prom.js";
import { DEFAULT_TENANT_LABELS } from "../contract/metrics.js";
import { parseEdgeEnv } from "./env.js";
import { defaultBodyCheckThreads, ThreadBodyChecker } from "./node/body-check.js";
import { isClusterPrimary, isClusterWorker, reportWorkerReady, runPrimary } from "./node/cluster.js";

export interface NodeEdgeOptions {
  redisUrl: string;
  /** Redis Cluster seeds (host:port): set = a Cluster instead of redisUrl */
  redisClusterNodes?: readonly string[];
  /** overrides a password in redisUrl (or every cluster node's) */
  redisPassword?: string;
  /** 0 = any free port */
  port?: number;
  host?: string;
  config?: EdgeConfigInput;
  logger?: Logger;
  /** default: quota admission (tenant and key limits enforced) */
  admission?: Admission;
  /** serve Prometheus GET /metrics on this port (0 = any free port); undefined = no metrics server */
  metricsPort?: number;
  /** default: host */
  metricsHost?: string;
  /** tenants (first seen) with their own metrics label; default 20 */
  tenantLabels?: number;
  /** the request's headers and body must arrive within this (ms); default 30 s */
  bodyTimeoutMs?: number;
  /** check bodies of at least minBytes on this many threads (edge/node/body-check.ts); default: off */
  bodyCheck?: { threads: number; minBytes: number };
}

export interface NodeEdge {
  url: string;
  port: number;
  /** http://host:port/metrics when the metrics server runs */
  metricsUrl?: string;
  metricsPort?: number;
  /** the edge's Prometheus registry (also when no metrics server runs) */
  metrics: PromEdgeMetrics;
  /** draining state and open responses */
  lifecycle: EdgeLifecycle;
  /** the body-check threads, when on */
  bodyCheck?: ThreadBodyChecker;
  /** Stops taking requests, lets open responses run up to `deadlineMs`, ends the rest, then closes. */
  drain(deadlineMs: number): Promise<{ finished: number; ended: number }>;
  close(): Promise<void>;
}

/**
 * A request's headers and body must arrive within `ms` (Node answers 408): a body
 * trickled byte by byte must not hold a connection for Node's default 5 minutes.
 * Node checks these timeouts every connectionsCheckingInterval, so that shrinks too.
 */
function bodyTimeouts(ms: number) {
  return { requestTimeout: ms, headersTimeout: Math.min(60_000, ms), connectionsCheckingInterval: Math.min(1_000, ms) };
}

/** Starts the edge on Node; resolves once it listens. */
export async function startNodeEdge(opts: NodeEdgeOptions): Promise<NodeEdge> {
  const logger = opts.logger ?? pino({ name: "edge", level: "info" });
  const metrics = new PromEdgeMetrics({ tenantLabels: opts.tenantLabels ?? DEFAULT_TENANT_LABELS });
  // One command connection for every request of this process (ioredis pipelines them).
  // No enableAutoPipelining: ioredis 5.8 mis-matches replies when a Lua script
  // (EVALSHA with its NOSCRIPT fallback) shares an auto-pipeline ("results[i] is not iterable").
  // maxRetriesPerRequest 2: a command waits through a short blip (reconnect) but a
  // request fails fast, as a 503, while Redis is really down (default: ~20 retries, seconds).
  const redis = connectRedis(
    { url: opts.redisUrl, clusterNodes: opts.redisClusterNodes, password: opts.redisPassword },
    { connectionName: "sg-edge", lazyConnect: true, maxRetriesPerRequest: 2 },
  );
  coalesceWrites(redis);
  redis.on("error", (err: Error) => {
    metrics.redisError("connection");
    logger.warn({ err: err.message }, "redis connection error");
  });
  await redis.connect();
  // One Redis: the pool pushes the entries to this process's channel (edge/node/pushed-streams.ts).
  // On a cluster a script can publish only in its own slot: the reader is told of new
  // entries per stream and reads them (its own subscriber client; edge/node/cluster-streams.ts).
  let streams: ClusterStreamReader | PushedStreamReader;
  if (redis.isCluster) {
    streams = new ClusterStreamReader(
      redis,
      shardSubscriber(redis, (err) => logger.warn({ err: err.message }, "stream notifications: redis error")),
      { logger },
    );
  } else {
    const pushed = new PushedStreamReader(redis, { logger });
    await pushed.start(); // subscribed before any request can register its channel
    streams = pushed;
  }
  const lifecycle = new EdgeLifecycle();
  const bodyCheck = opts.bodyCheck && opts.bodyCheck.threads > 0 ? new ThreadBodyChecker(opts.bodyCheck.threads, opts.bodyCheck.minBytes) : undefined;
  await bodyCheck?.warm();
  const app = createApp({
    lifecycle,
    redis: async () => ({ redis, release() {} }),
    streams,
    config: opts.config,
    logger,
    admission: opts.admission ?? quotaAdmission(),
    metrics,
    sse: directSse,
    io: nodeRequestIo,
    // background work (a cancel after a disconnect, settlement) simply runs on Node
    waitUntil: () => {},
    bodyCheck,
  });
  const host = opts.host ?? "127.0.0.1";
  let server!: ServerType;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host, serverOptions: bodyTimeouts(opts.bodyTimeoutMs ?? 30_000) }, (info) =>
      resolve(info.port),
    );
    server.once("error", reject);
  });
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  let metricsServer: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      metricsServer = await serveMetrics(metrics.registry, opts.metricsPort, opts.metricsHost ?? host);
    } catch (err) {
      server.close();
      await streams.close();
      await bodyCheck?.close();
      redis.disconnect();
      throw new Error(`edge: cannot serve /metrics on port ${opts.metricsPort}: ${(err as Error).message}`);
    }
  }
  return {
    url: `http://${shownHost}:${port}`,
    port,
    metricsUrl: metricsServer?.url,
    metricsPort: metricsServer?.port,
    metrics,
    lifecycle,
    bodyCheck,
    // Keeps listening while draining: new requests get a clear 503 (and /readyz says
    // so, taking the edge out of its load balancer) rather than a refused connection.
    drain: (deadlineMs) => lifecycle.drain(deadlineMs),
    close,
  };

  async function close(): Promise<void> {
    await metricsServer?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Open SSE streams would keep close() waiting: end them.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await streams.close();
    await bodyCheck?.close();
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const parsed = parseEdgeEnv(process.env, { runtime: "node" });
  if (!parsed.ok) {
    console.error(`edge: bad environment: ${parsed.error}`);
    process.exit(2);
  }
  const { env, redisUrl, redisClusterNodes, config } = parsed.value;
  const logger = pino({ name: "edge", level: env.LOG_LEVEL });
  const metricsPort = env.EDGE_METRICS_PORT === "off" ? undefined : env.EDGE_METRICS_PORT;
  const processes = env.EDGE_PROCESSES === "auto" ? availableParallelism() : env.EDGE_PROCESSES;
  if (isClusterPrimary(processes)) {
    await runPrimary({ processes, metricsPort, metricsHost: env.EDGE_METRICS_HOST, logger });
    process.exit(0);
  }
  const inCluster = isClusterWorker();
  const edge = await startNodeEdge({
    redisUrl,
    redisClusterNodes,
    redisPassword: env.REDIS_PASSWORD,
    port: env.EDGE_PORT,
    host: env.EDGE_HOST,
    config,
    logger,
    admission: env.EDGE_QUOTAS ? quotaAdmission() : openAdmission,
    // In a cluster the primary serves /metrics for every worker.
    metricsPort: inCluster ? undefined : metricsPort,
    metricsHost: env.EDGE_METRICS_HOST,
    tenantLabels: env.METRICS_TENANT_LABELS,
    bodyTimeoutMs: env.EDGE_BODY_TIMEOUT_MS,
    bodyCheck: {
      threads: env.EDGE_BODY_THREADS === "auto" ? (processes > 1 ? 1 : defaultBodyCheckThreads()) : env.EDGE_BODY_THREADS,
      minBytes: env.EDGE_BODY_THREAD_BYTES,
    },
  });
  logger.info({ url: edge.url, metricsUrl: edge.metricsUrl ?? null }, "edge started");
  if (inCluster) reportWorkerReady(edge.metrics.registry, { url: edge.url, port: edge.port });
  else console.log(JSON.stringify({ ready: true, url: edge.url, port: edge.port, metricsUrl: edge.metricsUrl }));
  // SIGTERM (Kubernetes, compose): drain, so no open response is cut without a way to
  // resume it. A second signal, or SIGINT, stops at once.
  let stopping = false;
  const stopNow = () => void edge.close().finally(() => process.exit(0));
  process.on("SIGINT", stopNow);
  process.on("SIGTERM", () => {
    if (stopping) return stopNow();
    stopping = true;
    logger.info({ openResponses: edge.lifecycle.openResponses, deadlineMs: env.EDGE_DRAIN_MS }, "draining");
    void edge.drain(env.EDGE_DRAIN_MS).then((r) => {
      logger.info(r, "drained");
      stopNow();
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`edge: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
