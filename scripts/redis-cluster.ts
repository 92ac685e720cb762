// Starts a private Redis Cluster (tests, `npm run dev` with DEV_REDIS_CLUSTER, the bench): 6 redis-server processes
// (3 masters, 3 replicas) on free ports, each with its own temp dir for
// nodes.conf, joined by `redis-cli --cluster create`. A short node timeout makes
// a failover (SIGKILL a master, its replica takes over) take about a second or two.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort } from "./stack.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  proc: ChildProcess;
}

export interface RedisClusterServer {
  /** every node, "127.0.0.1:port" */
  seeds: string[];
  /** REDIS_CLUSTER_NODES value */
  nodesEnv: string;
  nodes: ClusterNode[];
  /** A new cluster client; closed by stop(). */
  client(): Cluster;
  /** A direct connection to one node (for CLUSTER commands); closed by stop(). */
  direct(port: number): Redis;
  /** Port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILL one node (its data is lost: no persistence). */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports cluster_state:ok and agrees that every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const NODE_TIMEOUT_MS = 1500;

function launch(port: number, dir: string): ChildProcess {
  const proc = spawn(
    "redis-server",
    [
      "--port", String(port), "--bind", "127.0.0.1", "--protected-mode", "no",
      "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`),
      "--cluster-node-timeout", String(NODE_TIMEOUT_MS),
      // a replica with stale data may still take over (tests kill masters on purpose)
      "--cluster-replica-validity-factor", "0",
      "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  proc.on("error", () => {});
  return proc;
}

async function ping(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startRedisCluster(): Promise<RedisClusterServer> {
  const dir = mkdtempSync(join(tmpdir(), "sg-cluster-"));
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes: ClusterNode[] = ports.map((port) => ({ port, proc: launch(port, dir) }));
  const clients: (Cluster | Redis)[] = [];
  const dead = new Set<number>();

  const kill = async (port: number) => {
    const node = nodes.find((n) => n.port === port);
    if (!node || node.proc.exitCode !== null || node.proc.signalCode !== null) return;
    dead.add(port);
    const exited = once(node.proc, "exit");
    node.proc.kill("SIGKILL");
    await exited;
  };
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(ports.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  const direct = (port: number) => {
    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1 });
    c.on("error", () => {});
    clients.push(c);
    return c;
  };
  const probes = new Map<number, Redis>();
  const probe = (port: number) => {
    let c = probes.get(port);
    if (!c) probes.set(port, (c = direct(port)));
    return c;
  };
  const waitHealthy = async (timeoutMs = 30_000) => {
    await waitFor(
      async () => {
        for (const port of ports) {
          if (dead.has(port)) continue;
          const info = (await probe(port).cluster("INFO").catch(() => "")) as string;
          if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
          const slots = (await probe(port).cluster("SLOTS").catch(() => [])) as [number, number, [string, number]][];
          // every range must be served by a live master
          if (slots.length === 0 || slots.some((r) => dead.has(Number(r[2][1])))) return false;
        }
        return true;
      },
      "a healthy cluster",
      timeoutMs,
      50,
    );
  };

  try {
    await waitFor(async () => (await Promise.all(ports.map(ping))).every(Boolean), "6 redis-server nodes answering PING", 20_000, 25);
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"]);
    await waitHealthy();
    // every replica attached to its master (a failover needs one)
    await waitFor(
      async () => {
        const masters = await Promise.all(
          ports.map(async (p) => ((await probe(p).info("replication").catch(() => "")) as string).includes("role:master") ? p : 0),
        );
        return masters.filter(Boolean).length === 3 && ports.every((p) => !dead.has(p));
      },
      "3 masters with replicas",
    );
    await waitFor(
      async () => {
        for (const p of ports) {
          const info = (await probe(p).info("replication").catch(() => "")) as string;
          if (info.includes("role:slave") && !info.includes("master_link_status:up")) return false;
        }
        return true;
      },
      "replicas in sync",
    );
  } catch (e) {
    await stop();
    throw e;
  }

  const seeds = ports.map((p) => `127.0.0.1:${p}`);
  return {
    seeds,
    nodesEnv: seeds.join(","),
    nodes,
    client() {
      const c = new Cluster(
        ports.slice(0, 3).map((port) => ({ host: "127.0.0.1", port })),
        { retryDelayOnFailover: 100, retryDelayOnClusterDown: 100, slotsRefreshTimeout: 1000 },
      );
      c.on("error", () => {});
      clients.push(c);
      return c;
    },
    direct,
    async masterOf(key: string) {
      const live = ports.find((p) => !dead.has(p))!;
      const slot = Number(await probe(live).cluster("KEYSLOT", key));
      const slots = (await probe(live).cluster("SLOTS")) as unknown as [number, number, [string, number]][];
      const range = slots.find((r) => slot >= r[0] && slot <= r[1]);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return Number(range[2][1]);
    },
    kill,
    waitHealthy,
    stop,
  };
}
