// The Workers build in real workerd in front of a real pool and one simulated
// worker (both in-process) on a private Redis (one server, or a 3+3 Redis
// Cluster), with one seeded key: the setup every "through workerd, end to end"
// test shares.
import type { Redis } from "ioredis";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { seedApiKey } from "../../edge/tenants.js";
import { startTestRedis, type TestRedis, type Topology } from "../helpers/topology.js";
import { buildWorker, post, startWorkerd, type WorkerBuild, type Workerd } from "./helpers.js";
import { SseReader } from "../edge/helpers.js";

export interface RealStack {
  build: WorkerBuild;
  redis: TestRedis;
  r: Redis;
  sim: SimWorker;
  pool: PoolHandle;
  wd: Workerd;
  stop(): Promise<void>;
}

/** `key` belongs to `tenantId` with 100 requests and 100k tokens per minute; `bindings` add to the Redis ones. */
export async function startRealStack(tenantId: string, key: string, bindings: Record<string, string> = {}, topology: Topology = "single"): Promise<RealStack> {
  const [build, redis, sim] = await Promise.all([buildWorker(), startTestRedis(topology), startSimWorker({ port: 0, decodeMsPerToken: 2, decodeMsPerRunning: 0 })]);
  const r = redis.client();
  await seedApiKey(r, { tenantId, key, limits: { requests_per_minute: 100, tokens_per_minute: 100_000 } });
  const { redisUrl, redisClusterNodes } = redis.target;
  const redisBindings: Record<string, string> = redisClusterNodes ? { REDIS_CLUSTER_NODES: redisClusterNodes.join(",") } : { REDIS_URL: redisUrl };
  const [pool, wd] = await Promise.all([
    startPool({ ...redis.target, workers: [sim.address], logLevel: "error" }),
    startWorkerd(build, [{ name: "edge", bindings: { ...redisBindings, EDGE_KEEPALIVE_MS: "1000", ...bindings } }]),
  ]);
  return {
    build,
    redis,
    r,
    sim,
    pool,
    wd,
    async stop() {
      await wd.stop();
      await pool.stop();
      await sim.stop(100);
      await redis.stop();
      await build.remove();
    },
  };
}

/**
 * Opens a long stream through the Worker, reads 3 events, runs `beforeDrop` (the stream is
 * still open), drops the connection and waits for the simulated worker to see the cancel
 * (it fails if the generation finishes instead). Returns the request id and how long after
 * the drop the worker saw the cancel.
 */
export async function dropStreamAndAwaitCancel(stack: RealStack, key: string, beforeDrop: () => Promise<void> = async () => {}): Promise<{ rid: string; ms: number }> {
  const { sim, wd } = stack;
  const ctl = new AbortController();
  const res = await post(
    wd.url + "/v1/chat/completions",
    key,
    JSON.stringify({ model: sim.model, stream: true, max_tokens: 20_000, messages: [{ role: "user", content: "A very long story, please." }] }),
    {},
    ctl.signal,
  );
  if (res.status !== 200) throw new Error(`stream refused: ${res.status}`);
  const rid = res.headers.get("x-request-id")!;
  const cancelled = new Promise<number>((resolve) => {
    const on = (id: string, atMs: number) => {
      if (id !== rid) return;
      sim.events.off("cancel", on);
      resolve(atMs);
    };
    sim.events.on("cancel", on);
  });
  let onFinish!: (id: string) => void;
  const finished = new Promise<string>((resolve) => sim.events.on("finish", (onFinish = (id: string) => id === rid && resolve(id))));
  const sse = new SseReader(res);
  for (let events = 0; events < 3; ) if ((await sse.next())?.kind === "event") events++;
  await beforeDrop();
  const abortedAt = performance.timeOrigin + performance.now();
  ctl.abort();
  try {
    const atMs = await Promise.race([cancelled, finished.then(() => Promise.reject(new Error("the generation finished instead of being cancelled")))]);
    return { rid, ms: atMs - abortedAt };
  } finally {
    sim.events.off("finish", onFinish);
  }
}
