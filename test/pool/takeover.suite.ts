// A pool dies while holding requests; a second pool's reaper re-queues them and it
// resumes each from out(rid): the client sees exactly the fault-free text, with no
// duplicated or missing tokens. Run on one redis-server (takeover.test.ts) and on a
// cluster (test/cluster/takeover.test.ts).
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startTestRedis, type TestRedis, type Topology } from "../helpers/topology.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { expectedGeneration } from "../../sim/text-model.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { keys } from "../../contract/queue/keys.js";
import type { Job } from "../../contract/queue/messages.js";
import { collect, enqueue, makeJob, readUntilTerminal } from "./helpers.js";

export function takeoverSuite(topology: Topology): void {
  let redis: TestRedis;
  let sim: SimWorker;
  let r: Redis;
  const pools: PoolHandle[] = [];

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    sim = await startSimWorker({ port: 0, decodeMsPerToken: 4, decodeMsPerRunning: 0 });
    r = redis.client();
  });
  afterAll(async () => {
    for (const p of pools) await p.stop().catch(() => {});
    await sim?.stop(100);
    await redis?.stop();
  });

  const poolCfg = () => ({ ...redis.target, workers: [sim.address], leaseMs: 900, reapIntervalMs: 100, logLevel: "warn" as const });

  it(`a killed pool's requests finish on another pool with exactly the fault-free text (${topology} Redis)`, async () => {
    const a = await startPool({ ...poolCfg(), poolId: "pool-a" });
    pools.push(a);
    const jobs: Job[] = [
      makeJob({ prompt: "Rocket launch 🚀 went", sampling: { max_tokens: 300 } }),
      makeJob({ prompt: "东京的春天", sampling: { max_tokens: 300, stop: ["xyzzy"] } }),
      makeJob({ prompt: "Größere Äpfel", sampling: { max_tokens: 300, n: 2, seed: 3 } }),
      makeJob({ tenant_id: "t2", prompt: "Ελληνικά", sampling: { max_tokens: 250 } }),
    ];
    const expectedOf = (job: Job, k: number) =>
      expectedGeneration(sim.textModel, sim.tokenizer.encode(job.prompt!), { seed: (job.sampling.seed ?? 0) + k, maxNewTokens: job.sampling.max_tokens!, stop: job.sampling.stop });

    // Read each stream; note when a request has a few chunks out (the pool is mid-generation).
    const started: Promise<void>[] = [];
    const readers = jobs.map((job) => {
      const conn = redis.client();
      let seen = 0;
      let mark!: () => void;
      started.push(new Promise((res) => (mark = res)));
      return readUntilTerminal(conn, job.id, 30_000, () => ++seen === 3 && mark()).finally(() => conn.disconnect());
    });
    for (const job of jobs) await enqueue(r, job);
    await Promise.all(started);
    a.kill();
    const before = await Promise.all(jobs.map((j) => r.xlen(keys.out(j.id))));

    const b = await startPool({ ...poolCfg(), poolId: "pool-b" });
    pools.push(b);
    const results = await Promise.all(readers);

    results.forEach((entries, i) => {
      const job = jobs[i];
      const events = entries.map((e) => e.event);
      expect(events.filter((e) => e.type !== "chunk")).toHaveLength(1);
      const done = events[events.length - 1];
      expect(done.type).toBe("done");
      const byChoice = collect(events);
      let completion = 0;
      for (let k = 0; k < job.sampling.n; k++) {
        const exp = expectedOf(job, k);
        const got = byChoice.get(k)!;
        expect(got.ids).toEqual(exp.outputIds); // no duplicate, no missing token
        expect(got.text).toBe(sim.tokenizer.tokenizer.decode(exp.outputIds, { skip_special_tokens: true }));
        expect(got.finish).toBe("length");
        completion += exp.rawOutputIds.length;
      }
      expect(done.type === "done" && done.usage.completion_tokens).toBe(completion);
      // Both pools wrote to this stream: pool A before it died, pool B after.
      expect(before[i]).toBeGreaterThanOrEqual(3);
      expect(entries.length).toBeGreaterThan(before[i]);
    });
    expect(b.stats().reaped + a.stats().reaped).toBeGreaterThanOrEqual(jobs.length);
    expect(b.stats().claimed).toBe(jobs.length);
  });
}
