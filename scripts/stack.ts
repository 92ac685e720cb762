// Starts the whole system as separate processes: a private redis-server (unless
// a URL is given), N simulated TokenSpeed workers, the pool manager and the edge.
// Used by `npm run dev` and by the benchmarks, so both run what production runs.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { Redis } from "ioredis";

export interface StackOptions {
  redisUrl?: string;
  /** "host:port" seeds of a Redis Cluster the pool and the edge use instead (no private redis-server) */
  redisClusterNodes?: string[];
  simWorkers: number;
  edgePort: number;
  /** extra CLI flags for every simulated worker, e.g. ["--decode-ms", "20"] */
  simArgs?: string[];
  /** extra environment for the pool process */
  poolEnv?: Record<string, string>;
  /** extra environment for the edge process */
  edgeEnv?: Record<string, string>;
  /** called with each non-JSON output line of a child */
  onLine?: (name: string, line: string) => void;
  /** extra Node flags for the pool and the edge (e.g. --cpu-prof, which NODE_OPTIONS refuses) */
  nodeArgs?: string[];
  /** a single Redis only: the URL the edge reaches Redis at instead (e.g. through a delaying proxy), closed at stop */
  edgeRedisVia?(redisUrl: string): Promise<{ url: string; close(): Promise<void> }>;
}

export interface Stack {
  redisUrl: string;
  /** the private redis-server's pid (none when REDIS_URL pointed elsewhere) */
  redisPid?: number;
  baseUrl: string;
  /** the pool's internal HTTP server (status page, /metrics), if it serves one */
  poolHttp?: string;
  /** the edge's /metrics URL, if it serves one */
  edgeMetrics?: string;
  workerAddrs: string[];
  workers: ChildProcess[];
  pool: ChildProcess;
  edge: ChildProcess;
  /** graceful: SIGTERM each process (edge first, Redis last) and wait for it */
  stop(): Promise<void>;
  /** at once: SIGKILL every process (a second Ctrl-C, or the launcher dying) */
  kill(): void;
}

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, "close");
  return port;
}

/** Resolves with the first stdout line that is JSON with `ready: true`; rejects if the child exits first. */
function waitReady(name: string, child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        const msg = JSON.parse(line);
        if (msg && msg.ready) resolve(msg);
      } catch {
        /* a log line that merely starts with { */
      }
    });
    child.once("exit", (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready`)));
  });
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts a private redis-server on a free port (its process is pushed to `children`); resolves with its URL once it answers. */
export async function startRedisServer(children: ChildProcess[]): Promise<string> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const failed = new Promise<never>((_, reject) =>
    child.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "ENOENT"
          ? new Error("redis-server is not installed. Install it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL.")
          : e,
      ),
    ),
  );
  children.push(child);
  const url = `redis://127.0.0.1:${port}`;
  // Poll until it answers PING (it takes a few ms to bind).
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => {});
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), failed]);
      break;
    } catch (err) {
      if (i > 200 || child.exitCode !== null) throw err;
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      probe.disconnect();
    }
  }
  return url;
}

/** Runs a TypeScript entry with tsx in its own process; non-JSON output lines go to onLine. */
export function spawnTs(
  name: string,
  file: string,
  args: string[],
  env: Record<string, string>,
  onLine: (name: string, line: string) => void = () => {},
  nodeArgs: string[] = [],
): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", file, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const s of [child.stdout!, child.stderr!]) {
    createInterface({ input: s }).on("line", (line) => {
      if (!line.startsWith("{")) onLine(name, line);
    });
  }
  return child;
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/** Starts an HTTP server entry (one that prints {"ready":true,"url":...}) and resolves once it listens. */
export async function startServerProcess(
  name: string,
  file: string,
  env: Record<string, string> = {},
  onLine?: (name: string, line: string) => void,
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  const child = spawnTs(name, file, [], env, onLine, nodeArgs);
  try {
    const ready = await waitReady(name, child);
    return { child, baseUrl: String(ready.url), ready, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

/** Starts one Node edge process and resolves with its base URL once it listens. */
export function startEdgeProcess(
  redisUrl: string,
  port: number,
  env: Record<string, string> = {},
  onLine?: (name: string, line: string) => void,
  nodeArgs: string[] = [],
): Promise<ServerProcess> {
  return startServerProcess("edge", "edge/entry-node.ts", { REDIS_URL: redisUrl, EDGE_PORT: String(port), ...env }, onLine, nodeArgs);
}

/** Starts `n` simulated workers, one process each, and resolves once all are ready. */
export async function startSimProcesses(
  n: number,
  args: string[],
  children: ChildProcess[],
  onLine?: (name: string, line: string) => void,
): Promise<{ addrs: string[]; procs: ChildProcess[] }> {
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const procs = ports.map((port, i) => spawnTs(`sim${i}`, "sim/main.ts", ["--port", String(port), ...args], {}, onLine));
  children.push(...procs);
  await Promise.all(procs.map((child, i) => waitReady(`sim${i}`, child)));
  return { addrs: ports.map((port) => `127.0.0.1:${port}`), procs };
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const children: ChildProcess[] = [];
  const runTs = (name: string, file: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawnTs(name, file, args, env, opts.onLine, opts.nodeArgs);
    children.push(child);
    return child;
  };
  let via: { url: string; close(): Promise<void> } | undefined;
  const stop = async () => {
    for (const child of [...children].reverse()) await stopChild(child);
    await via?.close();
  };
  const kill = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  // Never leave orphans behind, whatever way this process ends.
  process.once("exit", kill);
  try {
    const external = opts.redisUrl ?? (opts.redisClusterNodes?.length ? `redis://${opts.redisClusterNodes[0]}` : undefined);
    const redisUrl = external ?? (await startRedisServer(children));
    const redisPid = external ? undefined : children[0]?.pid;
    // REDIS_CLUSTER_NODES wins over REDIS_URL in both processes
    const redisEnv: Record<string, string> = { REDIS_URL: redisUrl, ...(opts.redisClusterNodes?.length ? { REDIS_CLUSTER_NODES: opts.redisClusterNodes.join(",") } : {}) };
    const sims = await startSimProcesses(opts.simWorkers, opts.simArgs ?? [], children, opts.onLine);
    const { addrs: workerAddrs, procs: workers } = sims;
    const pool = runTs("pool", "pool/main.ts", [], { ...redisEnv, WORKERS: workerAddrs.join(","), ...opts.poolEnv });
    const poolReady = await waitReady("pool", pool);
    if (opts.edgeRedisVia && !opts.redisClusterNodes?.length) via = await opts.edgeRedisVia(redisUrl);
    const edge = runTs("edge", "edge/entry-node.ts", [], { ...redisEnv, ...(via ? { REDIS_URL: via.url } : {}), EDGE_PORT: String(opts.edgePort), ...opts.edgeEnv });
    const ready = await waitReady("edge", edge);
    const baseUrl = String(ready.url ?? `http://127.0.0.1:${opts.edgePort}`);
    const poolHttp = typeof poolReady.http === "string" ? poolReady.http : undefined;
    const edgeMetrics = typeof ready.metricsUrl === "string" ? ready.metricsUrl : undefined;
    return { redisUrl, redisPid, baseUrl, poolHttp, edgeMetrics, workerAddrs, workers, pool, edge, stop, kill };
  } catch (err) {
    await stop();
    throw err;
  }
}
