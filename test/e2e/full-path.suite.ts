// The full-path suite, run by test/e2e/full-path.test.ts on one redis-server and by
// test/cluster/full-path.test.ts on a Redis Cluster: the official OpenAI client ->
// Node edge -> Redis -> pool -> simulated TokenSpeed worker over gRPC -> back. The
// expected text is computed independently: the Qwen3 chat prompt encoded with the
// worker's tokenizer, the worker's deterministic output for it, decoded.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedGeneration } from "../../sim/text-model.js";
import { startFullStack, SIM_MODEL, type FullStack, type Topology } from "../helpers/full-stack.js";

export function fullPathSuite(topology: Topology): void {
  const KEY = "sk-e2e-full-path-0001";
  let stack: FullStack;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startFullStack({ workers: 2, topology });
    await stack.seed({ tenantId: "e2e", key: KEY });
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** What the worker generates for this prompt text, decoded the way a client must see it. */
  function expected(promptText: string, maxTokens: number, seed = 0) {
    const w = stack.workers[0];
    const ids = w.tokenizer.encode(promptText);
    const gen = expectedGeneration(w.textModel, ids, { seed, maxNewTokens: maxTokens });
    return { text: w.tokenizer.decode(gen.outputIds), promptTokens: ids.length, completionTokens: gen.rawOutputIds.length, finish: gen.finish.reason };
  }

  // Thinking is off unless asked for: the template closes an empty think block.
  const chatPrompt = (user: string) => `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n`;

  describe(`full path through the official openai client (${topology} Redis)`, () => {
    it("streams a chat completion whose text is the worker's output, with usage and [DONE]", async () => {
      const want = expected(chatPrompt("Tell me about lighthouses."), 48);
      const stream = await client.chat.completions.create({
        model: SIM_MODEL,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 48,
        temperature: 0,
        messages: [{ role: "user", content: "Tell me about lighthouses." }],
      });
      let text = "";
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(want.text);
      expect(text).not.toContain("\uFFFD");
      expect(finish).toBe(want.finish);
      expect(usage).toMatchObject({ prompt_tokens: want.promptTokens, completion_tokens: want.completionTokens });
      expect(usage!.total_tokens).toBe(want.promptTokens + want.completionTokens);
    });

    it("answers a non-streamed chat completion with the same text and usage", async () => {
      const want = expected(chatPrompt("Describe a harbour at night."), 40);
      const res = await client.chat.completions.create({
        model: SIM_MODEL,
        max_tokens: 40,
        temperature: 0,
        messages: [{ role: "user", content: "Describe a harbour at night." }],
      });
      expect(res.object).toBe("chat.completion");
      expect(res.choices[0].message.content).toBe(want.text);
      expect(res.choices[0].finish_reason).toBe("length");
      expect(res.usage).toMatchObject({ prompt_tokens: want.promptTokens, completion_tokens: 40 });
    });

    it("answers a text completion, streamed and not", async () => {
      const prompt = "The keeper climbed the stairs and";
      const want = expected(prompt, 24);
      const res = await client.completions.create({ model: SIM_MODEL, prompt, max_tokens: 24, temperature: 0 });
      expect(res.choices[0].text).toBe(want.text);
      expect(res.usage?.completion_tokens).toBe(24);
      const stream = await client.completions.create({ model: SIM_MODEL, prompt, max_tokens: 24, temperature: 0, stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
      expect(text).toBe(want.text);
    });

    it("ends the raw SSE stream with data: [DONE] and event ids from the response stream", async () => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: SIM_MODEL, stream: true, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
      });
      const body = await res.text();
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
      expect(body).toMatch(/^id: \d+-\d+$/m);
    });

    it("lists the model the live pool serves", async () => {
      const models = await client.models.list();
      expect(models.data.map((m) => m.id)).toContain(SIM_MODEL);
    });

    it("a client that drops a stream mid-way makes the worker see the cancel", async () => {
      const worker = stack.workers;
      const ac = new AbortController();
      const started = new Promise<string>((resolve) => worker.forEach((w) => w.events.once("start", resolve)));
      const cancelled = new Promise<{ rid: string; at: number }>((resolve) =>
        worker.forEach((w) => w.events.on("cancel", (rid: string, at: number) => resolve({ rid, at }))),
      );
      const stream = await client.chat.completions.create(
        { model: SIM_MODEL, stream: true, max_tokens: 2000, messages: [{ role: "user", content: "Write a very long story." }] },
        { signal: ac.signal },
      );
      let chunks = 0;
      let droppedAt = 0;
      try {
        for await (const _ of stream) {
          if (++chunks === 5) {
            droppedAt = performance.timeOrigin + performance.now();
            ac.abort();
          }
        }
      } catch (err) {
        expect((err as Error).name).toMatch(/Abort/);
      }
      const rid = await started;
      const cancel = await cancelled;
      expect(cancel.rid).toBe(rid);
      const ms = cancel.at - droppedAt;
      console.log(`client disconnect -> worker cancel: ${ms.toFixed(1)} ms`);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(worker.reduce((n, w) => n + w.stats().running, 0)).toBe(0);
    });
  });
}
