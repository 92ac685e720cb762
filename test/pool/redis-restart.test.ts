// Redis restarts (losing its data and its script cache) under load with the pool
// running. The pool auto-pipelines its commands and runs Lua over them, so its first
// script calls after the restart are EVALSHAs answered NOSCRIPT and retried as EVAL
// inside an auto-pipeline, all at once. Every request sent after the restart must
// get exactly its fault-free text (no reply handed to the wrong caller); a request in
// flight at the restart lost its state with it, and its client gets a retryable error
// (the edge notices that nobody will finish it), never a hang or a wrong text.
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { expectedGeneration } from "../../sim/text-model.js";
import { startFullStack, SIM_MODEL, type FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../helpers/wait.js";

const KEY = "sk-pool-restart-00001";
let stack: FullStack;

beforeAll(async () => {
  // keepalive 1 s: the edge looks for lost requests at each idle keepalive
  stack = await startFullStack({ workers: 1, sim: { decodeMsPerToken: 20, decodeMsPerRunning: 0 }, edge: { keepaliveMs: 1_000 } });
  await stack.seed({ tenantId: "restart", key: KEY });
});
afterAll(async () => {
  await stack?.stop();
});

const chatPrompt = (user: string) => `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;

function expectedText(user: string, maxTokens: number): string {
  const w = stack.workers[0]!;
  const gen = expectedGeneration(w.textModel, w.tokenizer.encode(chatPrompt(user)), { seed: 0, maxNewTokens: maxTokens });
  return w.tokenizer.decode(gen.outputIds);
}

interface Answer {
  text: string;
  error?: { status?: number; message: string };
  hung: boolean;
}

async function ask(client: OpenAI, user: string, maxTokens: number): Promise<Answer> {
  const signal = AbortSignal.timeout(30_000);
  let text = "";
  try {
    const stream = await client.chat.completions.create(
      { model: SIM_MODEL, stream: true, max_tokens: maxTokens, temperature: 0, messages: [{ role: "user", content: user }] },
      { signal },
    );
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    return { text, hung: signal.aborted };
  } catch (err) {
    const e = err as { status?: number; message: string };
    return { text, error: { status: e.status, message: e.message }, hung: signal.aborted };
  }
}

it("after a Redis restart under load, every new request gets exactly its own text", async () => {
  const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  const before = Array.from({ length: 20 }, (_, i) => ask(client, `before restart ${i}`, 200));
  await waitFor(async () => (await stack.r.keys("sg:{r:*}:out")).length >= 10, "streams in flight");
  await stack.redis!.restart();
  const inFlight = await Promise.all(before);
  // in-flight requests: their own full text, or a retryable error after a prefix of it
  inFlight.forEach((r, i) => {
    const want = expectedText(`before restart ${i}`, 200);
    expect(r.hung).toBe(false);
    if (r.error) {
      expect(want.startsWith(r.text)).toBe(true);
      expect(r.error.message).toMatch(/state was lost|retry/i);
    } else expect(r.text).toBe(want);
  });
  // The data is gone (no persistence): seed again once Redis answers, and wait for the pool's heartbeat.
  await waitFor(async () => (await stack.r.ping().catch(() => null)) === "PONG", "redis back");
  await stack.seed({ tenantId: "restart", key: KEY });
  await waitFor(async () => (await stack.r.zcard("sg:{reg}:pools")) > 0, "the pool's heartbeat");
  const prompts = Array.from({ length: 40 }, (_, i) => `after restart ${i}`);
  const after = await Promise.all(prompts.map((p) => ask(client, p, 24)));
  after.forEach((r, i) => {
    expect(r.error).toBeUndefined();
    expect(r.hung).toBe(false);
    expect(r.text).toBe(expectedText(prompts[i]!, 24));
  });
  const lost = inFlight.filter((r) => r.error).length;
  expect(lost).toBeGreaterThan(0); // the restart did hit requests in flight
  console.log(`redis restart: ${lost}/20 in-flight requests ended with a retryable error, ${20 - lost} complete; 40/40 after it exact`);
});
