// Workers joining, draining and leaving at run time through Redis (pool/workers/discovery.ts):
// a pool started with no configured worker finds one registered in Redis; a second
// worker joins and takes work; draining it lets its open stream finish while new
// work goes elsewhere; when its registration lapses it is removed.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import type { PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { deregisterWorker, registerWorker, setWorkerDraining, startWorkerHeartbeat } from "../../pool/workers/discovery.js";
import { makeJob } from "../pool/helpers.js";
import { quietPool, runStreams, until } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
let sims: SimWorker[] = [];
let pool: PoolHandle;

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
  sims = await Promise.all([0, 1].map(() => startSimWorker({ decodeMsPerToken: 2, decodeMsPerRunning: 0 })));
});
afterAll(async () => {
  await pool?.stop();
  await Promise.all(sims.map((s) => s.stop(100)));
  await redis?.stop();
});

it("join, drain and leave at run time", async () => {
  const [a, b] = sims;
  const served = new Map<string, string>();
  for (const s of sims) s.events.on("start", (rid: string) => served.set(rid, s.address));

  const hbA = startWorkerHeartbeat(r, a.address, 3_000);
  await hbA.ready;
  pool = await quietPool(redis, { workers: [], workerDiscoveryMs: 100, routingPolicy: "round_robin" });
  expect(pool.registry.workers.map((w) => w.address)).toEqual([a.address]);

  // b joins: the pool probes it and routes to it.
  await registerWorker(r, b.address, 60_000);
  const wb = () => pool.registry.get(b.address);
  await until(pool.registry.events, "state", () => wb()?.state === "ready", 5_000, "b ready");
  const two = await runStreams(redis, r, [0, 1, 2, 3].map((i) => makeJob({ id: `join-${i}`, prompt: `join ${i}`, sampling: { max_tokens: 4 } })));
  expect(new Set(two.map((s) => served.get(s.job.id)))).toEqual(new Set([a.address, b.address]));

  // Drain b while it holds a long stream: the stream finishes there, new work goes to a.
  const long = makeJob({ id: "drain-long", prompt: "long one", sampling: { max_tokens: 400 } });
  let drained: Promise<void> | undefined;
  const rest = runStreams(redis, r, [long], (_i, e, n) => {
    if (n === 1 && served.get(long.id) === b.address) drained = setWorkerDraining(r, b.address, true);
  });
  // Make sure the long one lands on b: route it while a is locally drained.
  pool.drain(a.address, true);
  const [[longRun]] = await Promise.all([rest, (async () => {
    await until(pool.registry.events, "draining", () => wb()?.draining === true, 5_000, "b draining");
    pool.drain(a.address, false);
    const during = await runStreams(redis, r, [0, 1, 2].map((i) => makeJob({ id: `during-${i}`, prompt: `during ${i}`, sampling: { max_tokens: 4 } })));
    for (const s of during) expect(served.get(s.job.id)).toBe(a.address);
  })()]);
  await drained;
  expect(served.get(long.id)).toBe(b.address);
  expect(longRun.done?.usage.completion_tokens).toBe(400); // finished on the draining worker

  // b leaves: its registration is removed, the pool drops it.
  await deregisterWorker(r, b.address);
  await until(pool.registry.events, "removed", () => !wb(), 5_000, "b removed");
  const after = await runStreams(redis, r, [makeJob({ id: "after", prompt: "after", sampling: { max_tokens: 4 } })]);
  expect(served.get(after[0].job.id)).toBe(a.address);
  await hbA.stop();
});
