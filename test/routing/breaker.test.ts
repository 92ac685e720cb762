// (d) Per-worker circuit breaker: consecutive failures open it (the worker gets no
// calls while open, requests are retried elsewhere and still succeed); after the
// cooldown one trial goes through (half_open); successes close it again.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import type { PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { CircuitBreaker } from "../../pool/workers/circuit-breaker.js";
import { makeJob } from "../pool/helpers.js";
import { quietPool, runStreams } from "./helpers.js";

let redis: RedisServer;
let r: Redis;
let sims: SimWorker[] = [];
let pool: PoolHandle;
const COOLDOWN = 400;

beforeAll(async () => {
  redis = await startRedis();
  r = redis.client();
  sims = await Promise.all([0, 1].map(() => startSimWorker({ decodeMsPerToken: 1, decodeMsPerRunning: 0 })));
  pool = await quietPool(redis, {
    workers: sims.map((s) => s.address),
    routingPolicy: "round_robin",
    breaker: { failureThreshold: 3, cooldownMs: COOLDOWN, successThreshold: 2 },
  });
});
afterAll(async () => {
  await pool?.stop();
  await Promise.all(sims.map((s) => s.stop(100)));
  await redis?.stop();
});

it("state machine: N failures open, cooldown -> half_open (one trial), M successes close, a failure re-opens", () => {
  let t = 0;
  const seen: string[] = [];
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 100, successThreshold: 2 }, (_f, to) => seen.push(to), () => t);
  b.failure();
  b.failure();
  b.success(); // resets the consecutive count
  b.failure();
  b.failure();
  expect(b.state).toBe("closed");
  b.failure();
  expect(b.state).toBe("open");
  expect(b.allows()).toBe(false);
  t = 100;
  expect(b.allows()).toBe(true);
  b.dispatched();
  expect(b.allows()).toBe(false); // one trial at a time
  b.failure();
  expect(b.state).toBe("open");
  t = 200;
  expect(b.allows()).toBe(true);
  b.dispatched();
  b.success();
  b.dispatched();
  b.success();
  expect(b.state).toBe("closed");
  expect(seen).toEqual(["open", "half_open", "open", "half_open", "closed"]);
});

it("opens after repeated failures, keeps the worker out while open, closes after recovery", async () => {
  const [bad, good] = sims;
  const transitions: { to: string; at: number }[] = [];
  pool.registry.events.on("breaker", (addr: string, _from: string, to: string) => {
    if (addr === bad.address) transitions.push({ to, at: performance.now() });
  });
  let startsOnBad = 0;
  bad.events.on("start", () => startsOnBad++);
  bad.faults.failBeforeFirstToken(3);

  let i = 0;
  let startsWhileOpen = -1;
  // One request at a time until the breaker has opened and closed again (bounded).
  while (!transitions.some((t) => t.to === "closed") && i < 300) {
    const state = pool.registry.get(bad.address)!.breaker.state;
    const before = startsOnBad;
    const [s] = await runStreams(redis, r, [makeJob({ id: `cb-${i++}`, prompt: `breaker ${i}`, sampling: { max_tokens: 4 } })]);
    expect(s.error, s.error?.error.message).toBeUndefined(); // every request succeeds (retried on the good worker)
    if (state === "open" && pool.registry.get(bad.address)!.breaker.state === "open") startsWhileOpen = Math.max(0, startsWhileOpen) + (startsOnBad - before);
  }
  const kinds = transitions.map((t) => t.to);
  console.log(`breaker: ${kinds.join(" -> ")} over ${i} requests`);
  expect(kinds.slice(0, 3)).toEqual(["open", "half_open", "closed"]);
  expect(transitions[1].at - transitions[0].at).toBeGreaterThanOrEqual(COOLDOWN - 5);
  expect(startsWhileOpen).toBe(0); // no call reached the worker while its circuit was open
  expect(good.stats().openGenerateCalls).toBe(0);
});
