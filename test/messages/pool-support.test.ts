// The two small pool additions the Messages API needs, at the Redis level (this
// test plays the edge; a real pool talks gRPC to a real simulated worker):
// the final chunk names the stop string that ended a choice (stop_sequence),
// and a count_only job is answered by tokenizing alone (no Generate call).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { expectedGeneration } from "../../sim/text-model.js";
import { startPool, type PoolHandle } from "../../pool/main.js";
import type { Job } from "../../contract/queue/messages.js";
import { collect, enqueue, makeJob, readUntilTerminal, settled } from "../pool/helpers.js";

let redis: RedisServer;
let sim: SimWorker;
let pool: PoolHandle;
let r: Redis;

beforeAll(async () => {
  redis = await startRedis();
  sim = await startSimWorker({ port: 0, decodeMsPerToken: 0.5, decodeMsPerRunning: 0 });
  pool = await startPool({ redisUrl: redis.url, workers: [sim.address], leaseMs: 3_000, logLevel: "error" });
  r = redis.client();
});
afterAll(async () => {
  await pool?.stop();
  await sim?.stop(100);
  await redis?.stop();
});

async function run(job: Job) {
  const conn = redis.client();
  const reading = readUntilTerminal(conn, job.id);
  const acked = settled(pool, job.id);
  await enqueue(r, job);
  const entries = await reading;
  await acked;
  conn.disconnect();
  return entries.map((e) => e.event);
}

const decode = (ids: number[]) => sim.tokenizer.tokenizer.decode(ids, { skip_special_tokens: true });

describe("stop_sequence on the final chunk", () => {
  it("names the stop string that ended the choice, and only then", async () => {
    const prompt = "In 2024 we measured";
    const full = decode(expectedGeneration(sim.textModel, sim.tokenizer.encode(prompt), { seed: 0, maxNewTokens: 120 }).outputIds);
    let stop = "";
    for (let at = Math.floor(full.length / 2); at < full.length - 3; at++) {
      const s = full.slice(at, at + 3);
      if (full.indexOf(s) === at && !/[\uFFFD\uD800-\uDFFF]/.test(s)) {
        stop = s;
        break;
      }
    }
    expect(stop).not.toBe("");
    const events = await run(makeJob({ prompt, sampling: { max_tokens: 120, stop: ["never-there-xyz", stop] } }));
    const finals = events.flatMap((e) => (e.type === "chunk" ? e.choices.filter((c) => c.finish_reason !== null) : []));
    expect(finals).toHaveLength(1);
    expect(finals[0]!.finish_reason).toBe("stop");
    expect(finals[0]!.stop_sequence).toBe(stop);
    expect(collect(events).get(0)!.text).toBe(full.slice(0, full.indexOf(stop)));

    // Ended by its length: no stop_sequence anywhere.
    const long = await run(makeJob({ prompt, sampling: { max_tokens: 10, stop: ["never-there-xyz"] } }));
    const chunks = long.flatMap((e) => (e.type === "chunk" ? e.choices : []));
    expect(chunks.at(-1)!.finish_reason).toBe("length");
    expect(chunks.some((c) => c.stop_sequence !== undefined)).toBe(false);
  });
});

describe("count_only jobs", () => {
  it("answer the rendered prompt's token count with one done event and never call a worker", async () => {
    const started: string[] = [];
    const onStart = (rid: string) => started.push(rid);
    sim.events.on("start", onStart);
    try {
      const messages = [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Wie geht's? 日本語で" },
      ];
      const tools: Job["tools"] = [{ type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } }];
      // The same chat job generated: its usage.prompt_tokens is what a count must equal.
      const gen = await run(makeJob({ kind: "chat", prompt: undefined, messages, tools, tool_choice: "auto", sampling: { max_tokens: 4 } }));
      const genDone = gen.at(-1)!;
      if (genDone.type !== "done") throw new Error("generation failed");
      expect(started).toHaveLength(1);

      const job = makeJob({ kind: "chat", prompt: undefined, messages, tools, tool_choice: "auto", count_only: true, sampling: { max_tokens: null } });
      const events = await run(job);
      expect(events).toEqual([{ type: "done", usage: { prompt_tokens: genDone.usage.prompt_tokens, completion_tokens: 0, cached_tokens: 0 } }]);
      expect(started).toHaveLength(1);
      expect(started).not.toContain(job.id);

      // Without the tools the count is smaller: tools are part of the rendered prompt.
      const bare = await run(makeJob({ kind: "chat", prompt: undefined, messages, count_only: true, sampling: { max_tokens: null } }));
      const bareDone = bare[0]!;
      expect(bareDone.type === "done" && bareDone.usage.prompt_tokens).toBeLessThan(genDone.usage.prompt_tokens);
    } finally {
      sim.events.off("start", onStart);
    }
  });
});
