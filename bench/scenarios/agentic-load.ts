// The agentic bench's load at the Redis level: deterministic text, FlushCache on the
// simulated workers, and one request enqueued like the edge does and read back from its
// response stream with blocking XREADs (TTFT, usage, text).
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { enqueueJob } from "../../edge/queue.js";
import { keys } from "../../contract/queue/keys.js";
import { JobSchema, ResponseEventSchema, type Job, type ResponseEvent } from "../../contract/queue/messages.js";
import { createClient } from "../../pool/workers/grpc-bridge.js";
import { TokenSpeedScheduler } from "../../contract/grpc/tokenspeed/tokenspeed_scheduler_pb.js";

// ---- deterministic text ----

const WORDS = (
  "the of and to in is was for on that with as by at from it an be this which or are were not have has had but all " +
  "their more one can other its also new after first two may into time would been only year over most such some " +
  "state system file error value request worker cache token build test result output input function module server " +
  "client stream queue policy route prefix memory latency throughput config deploy log trace metric index query " +
  "table record update delete create read write open close start stop retry timeout status check health agent tool"
).split(" ");

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** About `tokens` tokens of plausible text (these words are ~1 token each, plus punctuation). */
export function text(seed: number, tokens: number): string {
  const r = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < tokens * 0.8; i++) {
    out.push(WORDS[Math.floor(r() * WORDS.length)]);
    if (r() < 0.08) out.push(r() < 0.5 ? "." : "\n");
  }
  return out.join(" ");
}

// ---- processes ----

export async function flushCaches(addresses: string[]): Promise<void> {
  await Promise.all(
    addresses.map(async (a) => {
      const c = createClient(TokenSpeedScheduler, a);
      try {
        // In-flight requests (none should be left) make it fail; retry briefly.
        for (let i = 0; i < 50; i++) {
          const r = await c.flushCache({ timeoutS: 5 });
          if (r.success) return;
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error(`FlushCache on ${a} kept failing`);
      } finally {
        c.close();
      }
    }),
  );
}

// ---- one request at the Redis level ----

export interface Sample {
  ttftMs: number;
  completion: number;
  prompt: number;
  cached: number;
  text: string;
  error?: string;
}

export function job(over: Partial<Job>): Job {
  const now = Date.now();
  return JobSchema.parse({
    id: `bench-ag-${randomUUID()}`,
    tenant_id: "bench",
    key_id: "k",
    model: "qwen3-sim",
    kind: "chat",
    stream: true,
    enqueued_at: now,
    deadline_at: now + 600_000,
    reserved_tokens: 1000,
    weight: 1,
    attempt: 0,
    ...over,
  });
}

export async function request(r: Redis, conn: Redis, j: Job): Promise<Sample> {
  const t0 = performance.now();
  const pos = await enqueueJob(r, j, 0);
  if (pos === null) return { ttftMs: NaN, completion: 0, prompt: 0, cached: 0, text: "", error: "enqueue refused" };
  let last = "0";
  let ttft = NaN;
  let out = "";
  for (;;) {
    const res = (await conn.xread("BLOCK", 60_000, "STREAMS", keys.out(j.id), last)) as [string, [string, string[]][]][] | null;
    if (!res) return { ttftMs: ttft, completion: 0, prompt: 0, cached: 0, text: out, error: "timeout" };
    for (const [id, fields] of res[0][1]) {
      last = id;
      const ev: ResponseEvent = ResponseEventSchema.parse(JSON.parse(fields[1]));
      if (ev.type === "chunk") {
        const t = ev.choices.map((c) => c.text).join("");
        if (t && Number.isNaN(ttft)) ttft = performance.now() - t0;
        out += t;
      } else if (ev.type === "done") {
        return { ttftMs: ttft, completion: ev.usage.completion_tokens, prompt: ev.usage.prompt_tokens, cached: ev.usage.cached_tokens, text: out };
      } else {
        return { ttftMs: ttft, completion: 0, prompt: 0, cached: 0, text: out, error: ev.error.message };
      }
    }
  }
}
