// Redis restarting under load with the pool running. Redis keeps nothing on disk
// here, so a restart forgets the queue, the streams and the script cache: every
// EVALSHA after it fails with NOSCRIPT and ioredis falls back to EVAL, while other
// commands share the pool's connection. The requests that were open get a clean
// error (never a hang); the pool then serves new requests with the exact text.
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectedGeneration } from "../../sim/text-model.js";
import { startFullStack, SIM_MODEL, type FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";
import { commandCalls } from "../helpers/redis.js";
import { keys } from "../../contract/queue/keys.js";

const KEY = "sk-pool-redis-restart-01";
let stack: FullStack;
let client: OpenAI;

beforeAll(async () => {
  // Slow decode, so the first requests are mid-stream when Redis goes.
  // Short keepalives: the edge checks at each one that Redis still knows an open request.
  stack = await startFullStack({ workers: 2, sim: { decodeMsPerToken: 20 }, pool: { heartbeatMs: 200 }, edge: { keepaliveMs: 300 } });
  await stack.seed({ tenantId: "restart", key: KEY });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 60_000 });
});
afterAll(async () => stack?.stop());

function expected(user: string, maxTokens: number): string {
  const w = stack.workers[0]!;
  const ids = w.tokenizer.encode(`<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`);
  return w.tokenizer.decode(expectedGeneration(w.textModel, ids, { seed: 0, maxNewTokens: maxTokens }).outputIds);
}

async function streamText(user: string, maxTokens: number, onFirst?: () => void): Promise<string> {
  const stream = await client.chat.completions.create({ model: SIM_MODEL, stream: true, max_tokens: maxTokens, temperature: 0, messages: [{ role: "user", content: user }] });
  let text = "";
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta?.content ?? "";
    if (d && !text) onFirst?.();
    text += d;
  }
  return text;
}

it("open requests end with a clean error, then the pool serves exact answers again", async () => {
  let started = 0;
  const open = Array.from({ length: 16 }, (_, i) =>
    streamText(`restart load ${i}`, 200, () => started++).then(
      (text) => ({ ok: true as const, text }),
      (e: unknown) => ({ ok: false as const, error: e }),
    ),
  );
  await waitFor(async () => started === 16 || undefined, "every stream to be under way");
  await stack.redis!.restart();

  const ended = await Promise.all(open);
  for (const e of ended) {
    // The response streams were lost with Redis: each ends with a retryable error event
    // the SDK throws (never a hang, never a cut-off text passed off as complete).
    expect(e.ok).toBe(false);
    if (!e.ok) expect(e.error).toMatchObject({ code: "service_unavailable" });
  }

  // The key is gone with the data; seed it again, wait for the pool to re-register its model.
  await stack.seed({ tenantId: "restart", key: KEY });
  await waitFor(async () => ((await stack.r.zcard(keys.pools())) > 0 ? true : undefined), "the pool to re-register");
  const again = await Promise.all(Array.from({ length: 24 }, (_, i) => streamText(`after restart ${i}`, 24)));
  again.forEach((text, i) => expect(text).toBe(expected(`after restart ${i}`, 24)));
  // The restarted Redis had no scripts: the pool's EVALSHAs fell back to EVAL (over its
  // auto-pipelined connection) and every reply still reached its own caller.
  expect(await commandCalls(stack.r, "eval")).toBeGreaterThan(0);
});
