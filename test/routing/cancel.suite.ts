// (g) Cancellation reaches the worker whether the request is queued in the engine,
// in prefill or decoding: the edge's cancel (key + a message to the owning pool)
// makes the pool cancel the gRPC call (and send Abort); the worker frees the request.
// Latency = cancel message -> the worker's "cancel" event (same clock: in-process
// worker). Run on one redis-server (cancel.test.ts) and on a cluster (test/cluster/).
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startTestRedis, type TestRedis, type Topology } from "../helpers/topology.js";
import type { PoolHandle } from "../../pool/main.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { makeJob } from "../pool/helpers.js";
import { cancelChannel, keys } from "../../contract/queue/keys.js";
import { epochMs, pct, quietPool, runStreams, until } from "./helpers.js";

export function cancelSuite(topology: Topology): void {
  let redis: TestRedis;
  let r: Redis;
  let sim: SimWorker;
  let pool: PoolHandle;

  beforeAll(async () => {
    redis = await startTestRedis(topology);
    r = redis.client();
    // Slow prefill so long prompts sit in prefill; modest decode.
    sim = await startSimWorker({ decodeMsPerToken: 20, decodeMsPerRunning: 0, prefillTokensPerS: 8000, maxRunning: 64 });
    pool = await quietPool(redis, { workers: [sim.address], routingPolicy: "kv_aware" });
  });
  afterAll(async () => {
    await pool?.stop();
    await sim?.stop(100);
    await redis?.stop();
  });

  const cancelledAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();

  async function cancelNow(rid: string, model = makeJob().model): Promise<void> {
    // the edge's steps (edge/queue.ts cancelRequest): the durable key, the owner, then a
    // message on the owning pool's shard channel; latency is measured from that message
    await r.set(keys.cancel(rid), "client_disconnected", "EX", 600);
    const owner = await r.hget(keys.owners(model), rid);
    publishedAt.set(rid, epochMs());
    if (owner) await r.spublish(cancelChannel(owner.slice(0, owner.lastIndexOf(":"))), rid);
  }

  beforeAll(() => {
    sim.events.on("cancel", (rid: string, at: number) => cancelledAt.set(rid, at));
  });

  function latencies(rids: string[]): number[] {
    return rids.map((rid) => cancelledAt.get(rid)! - publishedAt.get(rid)!);
  }

  it(`cancels in decode, in prefill and while queued in the engine reach the worker, within milliseconds (${topology} Redis)`, async () => {
    const { monitorEventLoopDelay } = await import("node:perf_hooks");
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    // Decode: 25 streams cancelled after their 5th chunk (well into decode, past the start-up burst).
    const decode = Array.from({ length: 25 }, (_, i) => makeJob({ id: `cd-${i}`, prompt: `decode cancel ${i}`, sampling: { max_tokens: 2000 } }));
    const dr = await runStreams(redis, r, decode, (i, e, n) => {
      if (e.event.type === "chunk" && n === 5) void cancelNow(decode[i].id);
    });
    for (const s of dr) expect(s.error?.error.code).toBe("cancelled");
    h.disable();
    if (process.env.CANCEL_DEBUG) console.log(`event loop delay in decode phase: max ${(h.max / 1e6).toFixed(1)} ms p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);

    // Prefill: 25 long distinct prompts (~25 x 6000 tokens = ~19 s of prefill at 8000 tok/s),
    // all cancelled once the worker has started every one of them: none has reached decode.
    const words = (i: number) => Array.from({ length: 2000 }, (_, k) => `w${(i * 7919 + k * 31) % 9973}`).join(" ");
    const prefill = Array.from({ length: 25 }, (_, i) => makeJob({ id: `cp-${i}`, prompt: `${i} ${words(i)}`, sampling: { max_tokens: 50 } }));
    const startedP = new Set<string>();
    const onStart = (rid: string) => rid.startsWith("cp-") && startedP.add(rid);
    sim.events.on("start", onStart);
    const pr = runStreams(redis, r, prefill);
    await until(sim.events, "start", () => startedP.size === prefill.length, 20_000, "all prefill requests started");
    const running = sim.stats();
    expect(running.running + running.waiting).toBe(prefill.length); // none has finished prefill: nobody decodes yet
    for (const j of prefill) await cancelNow(j.id);
    for (const s of await pr) expect(s.error?.error.code).toBe("cancelled");
    sim.events.off("start", onStart);

    // Queued in the engine: a worker that runs one request at a time.
    // (Its own model name, so only its own pool claims these jobs.)
    const q = await startSimWorker({ model: "qwen3-queued", decodeMsPerToken: 5, decodeMsPerRunning: 0, maxRunning: 1 });
    const qpool = await quietPool(redis, { workers: [q.address], poolId: "queued" });
    try {
      const cancelledQ = new Set<string>();
      q.events.on("cancel", (rid: string, at: number) => {
        cancelledQ.add(rid);
        cancelledAt.set(rid, at);
      });
      const startedQ = new Set<string>();
      q.events.on("start", (rid: string) => startedQ.add(rid));
      const blocker = makeJob({ id: "cq-blocker", model: "qwen3-queued", prompt: "blocker", sampling: { max_tokens: 3000 } });
      const queued = Array.from({ length: 5 }, (_, i) => makeJob({ id: `cq-${i}`, model: "qwen3-queued", prompt: `queued ${i}`, sampling: { max_tokens: 10 } }));
      // The blocker first, streaming before the others are queued: the pool starts the
      // calls of jobs claimed together in whatever order their begin round trips return
      // (on a cluster their keys are on different nodes), and the worker runs whichever
      // arrives first.
      let blockerStreaming!: () => void;
      const streaming = new Promise<void>((resolve) => (blockerStreaming = resolve));
      const blocked = runStreams(redis, r, [blocker], (_i, e) => e.event.type === "chunk" && blockerStreaming());
      await streaming;
      const all = Promise.all([blocked, runStreams(redis, r, queued)]).then((runs) => runs.flat());
      await until(q.events, "start", () => startedQ.size === 6, 10_000, "queued requests submitted");
      expect(q.stats().waiting).toBe(5);
      for (const j of [...queued, blocker]) await cancelNow(j.id, j.model);
      for (const s of await all) expect(s.error?.error.code).toBe("cancelled");
      await until(q.events, "cancel", () => cancelledQ.size === 6, 5_000, "queued cancels");
      expect(q.stats().waiting + q.stats().running).toBe(0);
    } finally {
      await qpool.stop();
      await q.stop(100);
    }

    await until(sim.events, "cancel", () => [...decode, ...prefill].every((j) => cancelledAt.has(j.id)), 5_000, "every cancel at the worker");
    const lat = latencies([...decode, ...prefill].map((j) => j.id));
    const dLat = latencies(decode.map((j) => j.id));
    const pLat = latencies(prefill.map((j) => j.id));
    console.log(
      `cancel publish -> worker cancel over ${lat.length}: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms ` +
        `(decode p50 ${pct(dLat, 50).toFixed(2)}/p99 ${pct(dLat, 99).toFixed(2)}, prefill p50 ${pct(pLat, 50).toFixed(2)}/p99 ${pct(pLat, 99).toFixed(2)})`,
    );
    if (process.env.CANCEL_DEBUG) console.log(JSON.stringify({ d: dLat.map(Math.round), p: pLat.map(Math.round) }));
    // Goal: p99 < 50 ms (met on an idle machine, see the log line). The bound asserted here
    // leaves room for a loaded CI box running other test files on the same two cores.
    if (topology === "single") {
      expect(pct(lat, 50)).toBeLessThan(25);
      expect(pct(lat, 99)).toBeLessThan(250);
    } else {
      // On a cluster the test process also runs one Cluster client (3 connections, slot
      // refreshes) per stream reader on the same two cores, so the bound only shows the
      // message path worked: the durable fallback (the cancel key, re-read at each lease
      // refresh, every leaseMs/3 ≈ 3.3 s) would be far slower.
      expect(pct(lat, 50)).toBeLessThan(1_000);
    }
    // The worker holds nothing for them any more.
    const st = sim.stats();
    expect(st.running + st.waiting).toBe(0);
    expect(st.openGenerateCalls).toBe(0);
  });
}
