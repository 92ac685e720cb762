// (b) A pool manager dies mid-stream (kill(): no more Redis writes, no ack, calls
// dropped) while 50 streams run; a second pool reaps the expired leases and
// resumes each stream from what the dead pool already wrote: every client's text
// equals the fault-free text, with no duplicate or missing token, usage counted once.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import type { PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { makeJob } from "../pool/helpers.js";
import { expectedFor, quietPool, runStreams } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
let sims: SimWorker[] = [];
const pools: PoolHandle[] = [];

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
  sims = await Promise.all([0, 1].map(() => startSimWorker({ decodeMsPerToken: 8, decodeMsPerRunning: 0.1 })));
});
afterAll(async () => {
  for (const p of pools) await p.stop().catch(() => {});
  await Promise.all(sims.map((s) => s.stop(100)));
  await redis?.stop();
});

it("a killed pool's 50 streams are finished by another pool with the fault-free text", async () => {
  const cfg = { workers: sims.map((s) => s.address), leaseMs: 900, reapIntervalMs: 100, routingPolicy: "kv_aware" as const };
  const a = await quietPool(redis, { ...cfg, poolId: "pool-a" });
  pools.push(a);
  const N = 50;
  const jobs = Array.from({ length: N }, (_, i) =>
    makeJob({ id: `pk-${i}`, prompt: `Pool takeover ${i}: describe harbour ${i * 3}.`, sampling: { max_tokens: 120, temperature: 0, seed: i } }),
  );
  const started = new Set<number>();
  let b: Promise<PoolHandle> | undefined;
  let heldAtKill = 0;
  const results = await runStreams(
    redis,
    r,
    jobs,
    (i, e) => {
      if (e.event.type === "chunk") started.add(i);
      if (!b && started.size === N) {
        heldAtKill = a.stats().inFlight;
        a.kill();
        b = quietPool(redis, { ...cfg, poolId: "pool-b" });
        void b.then((p) => pools.push(p));
      }
    },
    30_000,
  );
  const poolB = await b!;
  expect(heldAtKill).toBeGreaterThan(N / 2);
  for (const s of results) {
    expect(s.error, s.error?.error.message).toBeUndefined();
    const exp = expectedFor(s.job);
    expect(s.ids).toEqual(exp.ids);
    expect(s.text).toBe(exp.text);
    expect(s.done!.usage.completion_tokens).toBe(exp.completionTokens);
  }
  expect(poolB.stats().claimed).toBeGreaterThanOrEqual(heldAtKill);
});
