// (a) A simulated worker PROCESS is SIGKILLed while 50 streams run across two
// workers: every stream completes, and each client's text and ids equal a
// fault-free run of the same prompts (temperature 0, explicit max_tokens), with
// usage counted once.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import type { PoolHandle } from "../../pool/main.js";
import { makeJob } from "../pool/helpers.js";
import { expectedFor, quietPool, runStreams, spawnSim, type SimProcess } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
let a: SimProcess;
let b: SimProcess;
let pool: PoolHandle;

const SIM_ARGS = ["--decode-ms-per-token", "8", "--decode-ms-per-running", "0.1"];

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
  [a, b] = await Promise.all([spawnSim(SIM_ARGS), spawnSim(SIM_ARGS)]);
  pool = await quietPool(redis, { workers: [a.address, b.address], routingPolicy: "round_robin", maxAttempts: 4 });
});
afterAll(async () => {
  await pool?.stop();
  await Promise.all([a?.kill(), b?.kill()]);
  await redis?.stop();
});

const N = 50;
const jobsFor = (tag: string) =>
  Array.from({ length: N }, (_, i) =>
    makeJob({ id: `${tag}-${i}`, prompt: `Conversation ${i}: tell me about lighthouse number ${i * 7}.`, sampling: { max_tokens: 80, temperature: 0, seed: i } }),
  );

it("SIGKILL of a worker process mid-stream: all 50 streams finish with the fault-free text", async () => {
  const clean = await runStreams(redis, r, jobsFor("clean"));
  for (const s of clean) {
    expect(s.done, s.error?.error.message).toBeDefined();
    const exp = expectedFor(s.job);
    expect(s.ids).toEqual(exp.ids);
    expect(s.text).toBe(exp.text);
  }

  // Kill worker A once every stream has delivered at least one chunk (all are mid-stream).
  const started = new Set<number>();
  let killed: Promise<void> | undefined;
  let openAtKill = 0;
  const finished = new Set<number>();
  const faulty = await runStreams(redis, r, jobsFor("faulty"), (i, e) => {
    if (e.event.type !== "chunk") finished.add(i);
    else started.add(i);
    if (!killed && started.size === N) {
      openAtKill = N - finished.size;
      killed = a.kill();
    }
  });
  await killed;
  expect(openAtKill).toBeGreaterThan(N / 2);

  faulty.forEach((s, i) => {
    expect(s.error, s.error?.error.message).toBeUndefined();
    expect(s.done).toBeDefined();
    expect(s.text).toBe(clean[i].text);
    expect(s.ids).toEqual(clean[i].ids); // no duplicated or missing token
    expect(s.done!.usage.completion_tokens).toBe(80); // counted once
    expect(s.done!.usage.prompt_tokens).toBe(clean[i].done!.usage.prompt_tokens);
  });
  // The dead worker is out of rotation.
  expect(pool.registry.get(a.address)?.state).not.toBe("ready");
});
