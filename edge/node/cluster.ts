// EDGE_PROCESSES > 1: one edge process per core behind one port (node:cluster).
// One Node process admits ~0.5-0.9k requests/s here (auth, quota script, enqueue, SSE
// headers on one event loop); every edge process is stateless (all state is in
// Redis), so more processes on the same port scale admission with the cores.
// The primary forks the workers, prints the one ready line, serves /metrics
// aggregated over its workers (prom-client's AggregatorRegistry), replaces a
// worker that dies, and on SIGTERM lets every worker drain before it exits.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Logger } from "../config.js";
import { serveMetrics, type MetricsServer } from "./metrics-prom.js";

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  type: "sg-edge-ready";
  url: string;
  port: number;
}

export interface PrimaryOptions {
  processes: number;
  /** /metrics of the whole cluster on this port (0 = any free port); undefined = none */
  metricsPort?: number;
  metricsHost: string;
  logger: Logger;
}

/** True in the primary when the edge should run as a cluster of `processes`. */
export function isClusterPrimary(processes: number): boolean {
  return processes > 1 && cluster.isPrimary;
}

export const isClusterWorker = (): boolean => cluster.isWorker;

/** Runs the cluster's primary: resolves when every worker has exited after SIGTERM/SIGINT. */
export async function runPrimary(o: PrimaryOptions): Promise<void> {
  // The workers accept on the shared socket themselves (the kernel spreads the
  // connections) instead of the primary accepting and handing each one over (an IPC
  // hop per connection, which made a 2-process edge slower than one here).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let started = false;
  const fork = (): Worker => cluster.fork();
  const ready = new Promise<WorkerReady>((resolve) => {
    let first: WorkerReady | undefined;
    let count = 0;
    cluster.on("message", (_w, msg: WorkerReady) => {
      if (msg?.type !== "sg-edge-ready") return;
      first ??= msg;
      if (++count === o.processes) resolve(first);
    });
  });
  cluster.on("exit", (w, code, signal) => {
    if (stopping) return;
    if (!started) {
      // A worker that cannot start (bad Redis, port taken) would fail again: stop here, loudly.
      console.error(`edge: a worker exited (${signal ?? code}) before the cluster was ready`);
      process.exit(1);
    }
    // A crashed worker loses only its own open streams (their clients resume); the port stays served by the others.
    o.logger.error({ pid: w.process.pid, code, signal }, "edge worker died; starting another");
    fork();
  });
  for (let i = 0; i < o.processes; i++) fork();
  const first = await ready;
  started = true;

  let metrics: MetricsServer | undefined;
  if (o.metricsPort !== undefined) {
    const aggregate = new AggregatorRegistry();
    metrics = await serveMetrics({ metrics: () => aggregate.clusterMetrics(), contentType: aggregate.contentType }, o.metricsPort, o.metricsHost);
  }
  const pids = Object.values(cluster.workers ?? {}).map((w) => w!.process.pid);
  o.logger.info({ url: first.url, processes: o.processes, pids }, "edge cluster started");
  console.log(JSON.stringify({ ready: true, url: first.url, port: first.port, metricsUrl: metrics?.url, processes: o.processes, pids }));

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      o.logger.info({ signal }, "stopping the edge workers");
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let left = workers.length;
      if (left === 0) return resolve();
      for (const w of workers) {
        w.once("exit", () => --left === 0 && resolve());
        // SIGTERM: each worker drains (EDGE_DRAIN_MS); SIGINT: each stops at once.
        w.process.kill(signal);
      }
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
  await metrics?.close();
}

/** In a worker: make this process's metrics part of the primary's /metrics, and say it is ready. */
export function reportWorkerReady(registry: Registry, ready: Omit<WorkerReady, "type">): void {
  AggregatorRegistry.setRegistries(registry);
  // prom-client installs a worker's reply to the primary's metrics requests only when an
  // AggregatorRegistry is constructed, in the worker too.
  new AggregatorRegistry();
  process.send?.({ type: "sg-edge-ready", ...ready } satisfies WorkerReady);
}
