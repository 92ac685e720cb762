// End to end at the Redis level: this test plays the edge (enqueue.lua, cancel key +
// publish, XREAD of out(rid)); a real pool talks gRPC to a real simulated worker.
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { expectedGeneration, type GenParams } from "../../sim/text-model.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import { loadModelTokenizer } from "../../pool/tokenizer/model-tokenizer.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultTokenizerDir } from "../../sim/tokenizer.js";
import { keys } from "../../contract/queue/keys.js";
import type { Job } from "../../contract/queue/messages.js";
import { cancel, collect, enqueue, makeJob, readUntilTerminal, settled } from "./helpers.js";

let redis: RedisServer;
let sim: SimWorker;
let pool: PoolHandle;
let r: Redis;

beforeAll(async () => {
  redis = await startRedis();
  // Fast decode so tokens arrive faster than a Redis round trip under load.
  sim = await startSimWorker({ port: 0, decodeMsPerToken: 0.5, decodeMsPerRunning: 0 });
  pool = await startPool({ redisUrl: redis.url, workers: [sim.address], leaseMs: 3_000, logLevel: "error" });
  r = redis.client();
});

afterAll(async () => {
  await pool?.stop();
  await sim?.stop(100);
  await redis?.stop();
});

function simParams(job: Job, k = 0): GenParams {
  return { seed: (job.sampling.seed ?? 0) + k, maxNewTokens: job.sampling.max_tokens ?? 128, stop: job.sampling.stop };
}

function decode(ids: number[]): string {
  return sim.tokenizer.tokenizer.decode(ids, { skip_special_tokens: true });
}

/** What the sim will generate for a completion job's choice k. */
function expected(job: Job, k = 0) {
  return expectedGeneration(sim.textModel, sim.tokenizer.encode(job.prompt!), simParams(job, k));
}

async function run(job: Job) {
  const conn = redis.client();
  const reading = readUntilTerminal(conn, job.id);
  const acked = settled(pool, job.id);
  await enqueue(r, job);
  const entries = await reading;
  await acked;
  conn.disconnect();
  return entries;
}

describe("pool end to end", () => {
  it("streams exactly the worker's tokens as text, with usage", async () => {
    const job = makeJob({ prompt: "Le café crème 東京 🚀", sampling: { max_tokens: 80, temperature: 0 } });
    const entries = await run(job);
    const exp = expected(job);
    const got = collect(entries.map((e) => e.event)).get(0)!;
    expect(got.ids).toEqual(exp.outputIds);
    expect(got.text).toBe(decode(exp.outputIds));
    expect(got.finish).toBe("length");
    const last = entries[entries.length - 1].event;
    expect(last).toEqual({
      type: "done",
      usage: { prompt_tokens: sim.tokenizer.encode(job.prompt!).length, completion_tokens: exp.rawOutputIds.length, cached_tokens: expect.any(Number) },
    });
    // Settled: the job is gone from the queue.
    expect(await r.hexists(keys.jobs(job.model), job.id)).toBe(0);
    expect(await r.zscore(keys.leases(job.model), job.id)).toBeNull();
  });

  it("renders chat through the model's template", async () => {
    const job = makeJob({
      kind: "chat",
      prompt: undefined,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Wie geht's? 日本語で" },
      ],
      chat_template_kwargs: { enable_thinking: false },
      sampling: { max_tokens: 40 },
    });
    const dir = defaultTokenizerDir();
    const files = new Map(["tokenizer.json", "tokenizer_config.json"].map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
    const tk = loadModelTokenizer(files);
    if (!tk.ok) throw new Error(tk.error);
    const rendered = tk.value.renderChat({ messages: job.messages!, kwargs: job.chat_template_kwargs });
    if (!rendered.ok) throw new Error(rendered.error);
    const promptIds = sim.tokenizer.encode(rendered.value);
    const exp = expectedGeneration(sim.textModel, promptIds, simParams(job));
    const entries = await run(job);
    const got = collect(entries.map((e) => e.event)).get(0)!;
    expect(got.text).toBe(decode(exp.outputIds));
    const done = entries[entries.length - 1].event;
    expect(done.type === "done" && done.usage.prompt_tokens).toBe(promptIds.length);
  });

  it("n=2: each choice gets its own sample; usage sums the choices", async () => {
    const job = makeJob({ prompt: "Zürich und Köln", sampling: { max_tokens: 30, n: 2, seed: 7 } });
    const entries = await run(job);
    const byChoice = collect(entries.map((e) => e.event));
    const e0 = expected(job, 0);
    const e1 = expected(job, 1);
    expect(e0.outputIds).not.toEqual(e1.outputIds); // otherwise the test proves nothing
    expect(byChoice.get(0)!.text).toBe(decode(e0.outputIds));
    expect(byChoice.get(1)!.text).toBe(decode(e1.outputIds));
    const done = entries[entries.length - 1].event;
    expect(done.type === "done" && done.usage.completion_tokens).toBe(e0.rawOutputIds.length + e1.rawOutputIds.length);
  });

  it("stop strings: trimmed, finish_reason stop", async () => {
    const base = makeJob({ prompt: "In 2024 we measured", sampling: { max_tokens: 120 } });
    const full = decode(expected(base).outputIds);
    // A stop string from the middle of the output that is not an earlier substring.
    let stop = "";
    for (let at = Math.floor(full.length / 2); at < full.length - 3; at++) {
      const s = full.slice(at, at + 3);
      // (whole characters only: not a replacement character, not half a surrogate pair)
      if (full.indexOf(s) === at && !/[\uFFFD\uD800-\uDFFF]/.test(s)) {
        stop = s;
        break;
      }
    }
    expect(stop).not.toBe("");
    const job = makeJob({ prompt: base.prompt, sampling: { max_tokens: 120, stop: [stop] } });
    const entries = await run(job);
    const got = collect(entries.map((e) => e.event)).get(0)!;
    expect(got.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(got.finish).toBe("stop");
  });

  it("retries on another attempt when the call fails before the first token, and migrates mid-stream", async () => {
    sim.faults.failBeforeFirstToken(1);
    const a = makeJob({ prompt: "roses are red", sampling: { max_tokens: 50 } });
    const ea = await run(a);
    expect(collect(ea.map((e) => e.event)).get(0)!.text).toBe(decode(expected(a).outputIds));

    sim.faults.failMidStream(1, 12);
    const b = makeJob({ prompt: "violets are blue", sampling: { max_tokens: 50 } });
    const eb = await run(b);
    const got = collect(eb.map((e) => e.event)).get(0)!;
    expect(got.ids).toEqual(expected(b).outputIds);
    expect(got.text).toBe(decode(expected(b).outputIds));
    const done = eb[eb.length - 1].event;
    expect(done.type === "done" && done.usage.completion_tokens).toBe(50);
  });

  it("answers 503 queue_timeout for a job past its deadline, and drops a job cancelled while queued", async () => {
    const late = makeJob({ deadline_at: Date.now() - 1 });
    const e1 = await run(late);
    expect(e1).toHaveLength(1);
    expect(e1[0].event).toMatchObject({ type: "error", error: { status: 503, code: "queue_timeout" } });

    const gone = makeJob();
    await r.set(keys.cancel(gone.id), "client_disconnected", "EX", 60);
    const e2 = await run(gone);
    expect(e2).toHaveLength(1);
    expect(e2[0].event).toMatchObject({ type: "error", error: { code: "cancelled" } });
    expect(await r.hexists(keys.jobs(gone.model), gone.id)).toBe(0);
  });

  it("cancel via the channel cancels the gRPC call on the worker", async () => {
    const job = makeJob({ prompt: "a long story", sampling: { max_tokens: 20_000 } });
    const conn = redis.client();
    let firstChunk!: () => void;
    const gotChunk = new Promise<void>((res) => (firstChunk = res));
    const reading = readUntilTerminal(conn, job.id, 20_000, () => firstChunk());
    const acked = settled(pool, job.id);
    await enqueue(r, job);
    await gotChunk;
    const cancelled = once(sim.events, "cancel");
    const t0 = performance.timeOrigin + performance.now();
    await cancel(r, job);
    const [rid, atMs] = (await cancelled) as [string, number];
    const ms = atMs - t0;
    console.log(`cancel: publish -> worker cancel ${ms.toFixed(2)} ms`);
    expect(rid).toBe(job.id);
    expect(ms).toBeLessThan(500);
    const entries = await reading;
    await acked;
    conn.disconnect();
    expect(entries[entries.length - 1].event).toMatchObject({ type: "error", error: { code: "cancelled" } });
    expect(await r.hexists(keys.jobs(job.model), job.id)).toBe(0);
  });

  it("coalesces writes under load, while an idle request gets its first chunk promptly", async () => {
    // Idle: one request alone.
    const solo = makeJob({ prompt: "quick brown fox", sampling: { max_tokens: 20 } });
    const conn = redis.client();
    await conn.ping(); // connected before the clock starts
    const reading = readUntilTerminal(conn, solo.id);
    const t0 = performance.now();
    await enqueue(r, solo);
    const soloEntries = await reading;
    conn.disconnect();
    const ttfc = soloEntries[0].seenAt - t0;
    console.log(`idle: enqueue -> first chunk ${ttfc.toFixed(1)} ms`);
    expect(ttfc).toBeLessThan(250);

    // Load: 32 concurrent requests.
    const jobs = Array.from({ length: 32 }, (_, i) => makeJob({ prompt: `Request ${i}: tokens are split`, sampling: { max_tokens: 200 } }));
    const results = await Promise.all(jobs.map((j) => run(j)));
    let entries = 0;
    let tokens = 0;
    results.forEach((res, i) => {
      const got = collect(res.map((e) => e.event)).get(0)!;
      expect(got.text).toBe(decode(expected(jobs[i]).outputIds));
      entries += res.length;
      tokens += got.ids.length;
    });
    console.log(`load: 32 requests, ${(entries / 32).toFixed(1)} stream entries/request for ${(tokens / 32).toFixed(0)} tokens/request`);
    expect(entries / 32).toBeLessThan(tokens / 32);
  });
});
