// EDGE_PROCESSES=2: the Node edge as a cluster of processes on one port. The
// primary prints one ready line with its workers' pids, /metrics adds up every
// worker's counters, a killed worker is replaced while the other keeps the port
// served, and SIGTERM lets the workers drain and the primary exit 0.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startEdgeProcess } from "../../scripts/stack.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { scrape, sum } from "../helpers/prom.js";
import { waitFor } from "../../scripts/wait.js";

const KEY = "sk-edge-cluster-0001";

let redis: RedisServer;
let r: Redis;
let edge: Awaited<ReturnType<typeof startEdgeProcess>>;
let output = "";

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
  await seedApiKey(r, { tenantId: "cluster", key: KEY });
  edge = await startEdgeProcess(redis.url, 0, { EDGE_PROCESSES: "2", EDGE_METRICS_PORT: "0", LOG_LEVEL: "info" });
  // pino logs (the primary's "edge worker died") go to stdout.
  edge.child.stdout!.on("data", (c) => (output += c));
});

afterAll(async () => {
  await edge?.stop();
  await redis?.stop();
});

async function models(n: number): Promise<number[]> {
  // A new connection per request, so the primary spreads them over its workers.
  return Promise.all(
    Array.from({ length: n }, async () => (await fetch(`${edge.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${KEY}`, connection: "close" } })).status),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("EDGE_PROCESSES=2", () => {
  it("serves one port from two processes and adds up their metrics", async () => {
    const pids = edge.ready.pids as number[];
    expect(edge.ready.processes).toBe(2);
    expect(pids).toHaveLength(2);
    expect(new Set([...pids, edge.child.pid]).size).toBe(3);
    expect((await models(40)).every((s) => s === 200)).toBe(true);
    const m = await scrape(String(edge.ready.metricsUrl));
    expect(sum(m, "speedgate_edge_requests_total", { route: "/v1/models", status: "200" })).toBe(40);
  });

  it("replaces a killed worker; the other keeps the port served meanwhile", async () => {
    const [victim, survivor] = edge.ready.pids as number[];
    process.kill(victim!, "SIGKILL");
    await waitFor(async () => !alive(victim!), "the killed worker to be gone");
    expect((await models(10)).every((s) => s === 200)).toBe(true);
    expect(alive(survivor!)).toBe(true);
    await waitFor(async () => output.includes("edge worker died; starting another") || undefined, "the primary to replace the worker");
  });

  it("SIGTERM: the workers drain and the primary exits 0", async () => {
    const child: ChildProcess = edge.child;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    for (const pid of edge.ready.pids as number[]) expect(alive(pid)).toBe(false);
  });
});
