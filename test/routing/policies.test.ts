// (f) Each routing policy picks as expected on a small scenario: first on plain
// worker descriptions (the policies are pure functions of what the registry
// tells them), then kv_aware and session end to end through a pool and real workers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import type { PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { DEFAULT_ROUTING, KvAwareRouter, LoadAwareRouter, RoundRobinRouter, SessionRouter } from "../../pool/routing/policies.js";
import { QueryHashes } from "../../pool/routing/kv-index.js";
import type { LoadSnapshot, RouteRequest } from "../../pool/routing/router.js";
import { makeJob } from "../pool/helpers.js";
import { quietPool, runStreams } from "./helpers.js";

interface W {
  address: string;
  inFlight: number;
  pendingPrefillTokens: number;
  loads?: LoadSnapshot;
}
const w = (address: string, inFlight = 0, pendingPrefillTokens = 0, loads?: Partial<LoadSnapshot>): W => ({
  address,
  inFlight,
  pendingPrefillTokens,
  loads: loads && { at: performance.now(), running: 0, waiting: 0, waitingUncachedTokens: 0, tokenUsage: 0, cacheHitRate: 0, genThroughput: 0, maxTotalTokens: 0, ...loads },
});
const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);
const req = (ids: number[], sessionKey?: string): RouteRequest => ({ requestId: "r", model: "m", inputIds: ids, sessionKey });

describe("policies on a small scenario", () => {
  it("round_robin cycles through the workers in a stable order", () => {
    const rr = new RoundRobinRouter();
    const ws = [w("c"), w("a"), w("b")];
    expect([0, 1, 2, 3].map(() => rr.pick(ws)!.address)).toEqual(["a", "b", "c", "a"]);
  });

  it("load_aware picks the fewest queued prefill tokens + in-flight work, using GetLoads when it knows more", () => {
    const la = new LoadAwareRouter();
    expect(la.pick([w("a", 4, 0), w("b", 1, 0), w("c", 2, 0)], req([1]))!.address).toBe("b");
    expect(la.pick([w("a", 0, 8000), w("b", 3, 0)], req([1]))!.address).toBe("b"); // 8000 queued tokens > 3 x 32
    // Another pool has filled b (GetLoads: 5000 uncached tokens waiting); a is idle.
    expect(la.pick([w("a", 1, 0), w("b", 0, 0, { waitingUncachedTokens: 5000 })], req([1]))!.address).toBe("a");
    // KV pressure: b's cache is 99 % full.
    expect(la.pick([w("a", 2, 0), w("b", 0, 0, { tokenUsage: 0.99 })], req([1]))!.address).toBe("a");
  });

  it("session keeps a conversation on its worker, and moves it only when that worker is gone", () => {
    const s = new SessionRouter();
    const ws = [w("a"), w("b", 1)];
    const first = s.pick(ws, req([1], "conv-1"))!;
    expect(first.address).toBe("a");
    s.routed(first, req([1], "conv-1"));
    // a is now much busier, the session still sticks.
    expect(s.pick([w("a", 50, 9000), w("b", 1)], req([1], "conv-1"))!.address).toBe("a");
    // A new conversation goes to the least-loaded worker.
    expect(s.pick([w("a", 50, 9000), w("b", 1)], req([1], "conv-2"))!.address).toBe("b");
    // a left (not a candidate): the session moves.
    const moved = s.pick([w("b", 1), w("c", 3)], req([1], "conv-1"))!;
    expect(moved.address).toBe("b");
    s.routed(moved, req([1], "conv-1"));
    expect(s.boundTo("conv-1")).toBe("b");
  });

  it("kv_aware goes where the prefix is cached, but spreads a hot prefix once that worker is loaded", () => {
    const kv = new KvAwareRouter({ ...DEFAULT_ROUTING, kvEvents: false });
    const prefix = range(4000, 1);
    kv.index.recordSent("b", new QueryHashes(prefix)); // b served this prefix before (approximate index)
    const next = req([...prefix, ...range(200, 90_000)]);
    expect(kv.score([w("a"), w("b")], next).find((x) => x.address === "b")!.matched).toBe(4000);
    expect(kv.pick([w("a"), w("b")], next)!.address).toBe("b");
    // b has a little work: still worth it (saves 4000 tokens of prefill).
    expect(kv.pick([w("a"), w("b", 3, 1000)], next)!.address).toBe("b");
    // b is hot: 6000 queued prefill tokens > the 4000 it would save.
    expect(kv.pick([w("a"), w("b", 10, 6000)], next)!.address).toBe("a");
    // No overlap anywhere: least loaded.
    expect(kv.pick([w("a", 2), w("b", 1)], req(range(300, 500_000)))!.address).toBe("b");
    // Imbalance guard (smg cache_aware): b has > 64 more requests and > 1.5x a's.
    expect(kv.pick([w("a", 1), w("b", 100, 0)], next)!.address).toBe("a");
  });
});

describe("end to end through a pool", () => {
  let redis: RedisServer;
  let r: Redis;
  let sims: SimWorker[] = [];
  const pools: PoolHandle[] = [];
  const served = new Map<string, string>(); // rid -> worker address

  beforeAll(async () => {
    redis = await startRedis();
    r = redis.client();
    sims = await Promise.all([0, 1, 2].map(() => startSimWorker({ decodeMsPerToken: 1, decodeMsPerRunning: 0 })));
    for (const s of sims) s.events.on("start", (rid: string) => served.set(rid, s.address));
  });
  afterAll(async () => {
    for (const p of pools) await p.stop().catch(() => {});
    await Promise.all(sims.map((s) => s.stop(100)));
    await redis?.stop();
  });

  /** A conversation's next turn: the same long opening, a longer tail. */
  const turn = (conv: number, t: number) =>
    makeJob({
      id: `c${conv}-t${t}-${Math.random().toString(36).slice(2, 8)}`,
      prompt: `Conversation ${conv}. ` + "The lighthouse keeper wrote in the log every evening. ".repeat(60) + ` Turn ${t}.`.repeat(t + 1),
      sampling: { max_tokens: 4 },
    });

  it("kv_aware: follow-up turns go to the worker that cached the conversation (KV events), and hit its cache", async () => {
    const pool = await quietPool(redis, { workers: sims.map((s) => s.address), routingPolicy: "kv_aware", poolId: "kv" });
    pools.push(pool);
    for (const conv of [1, 2, 3]) {
      const [first] = await runStreams(redis, r, [turn(conv, 0)]);
      const home = served.get(first.job.id)!;
      for (const t of [1, 2]) {
        const [s] = await runStreams(redis, r, [turn(conv, t)]);
        expect(served.get(s.job.id)).toBe(home);
        expect(s.done!.usage.cached_tokens).toBeGreaterThan(0.8 * s.done!.usage.prompt_tokens);
      }
    }
    await pool.stop();
  });

  it("session: chat turns with the same opening stick to one worker", async () => {
    const pool = await quietPool(redis, { workers: sims.map((s) => s.address), routingPolicy: "session", poolId: "sess" });
    pools.push(pool);
    const homes = new Set<string>();
    for (const conv of [1, 2]) {
      const history = [{ role: "system", content: "You are terse." }, { role: "user", content: `Question ${conv}` }];
      const seen = new Set<string>();
      for (let t = 0; t < 3; t++) {
        const job = makeJob({ id: `s${conv}-${t}`, kind: "chat", prompt: undefined, messages: [...history], sampling: { max_tokens: 4 } });
        const [s] = await runStreams(redis, r, [job]);
        seen.add(served.get(s.job.id)!);
        history.push({ role: "assistant", content: s.text }, { role: "user", content: `follow-up ${t}` });
      }
      expect(seen.size).toBe(1);
      homes.add([...seen][0]);
    }
    await pool.stop();
  });
});
