// Oversized prompts: refused with context_length_exceeded from cheap bounds (at the edge
// before queueing, from the bounds the pools advertise; at the pool, for what reaches it,
// without encoding the whole prompt), exact ids when a prompt fits (threads and main thread alike), a crashed
// tokenization thread replaced with a clean error, and a small request served while
// ten 1 MB prompts are being refused.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelTokenizer } from "../../pool/tokenizer/model-tokenizer.js";
import { loadRealModelTokenizer } from "../helpers/real-tokenizer.js";
import { PromptThreads } from "../../pool/tokenizer/prompt-threads.js";
import { renderPrompt } from "../../pool/run/prompt.js";
import { bigPrompt } from "../../bench/lib/big-prompt.js";
import { startFullStack, SIM_MODEL, type FullStack } from "../helpers/full-stack.js";
import type { NodeEdge } from "../../edge/entry-node.js";
import { enqueue, makeJob, readUntilTerminal } from "./helpers.js";
import { keys } from "../../contract/queue/keys.js";

let tok: ModelTokenizer;
const MB = 1 << 20;

beforeAll(() => {
  tok = loadRealModelTokenizer();
});

describe("bounded encoding", () => {
  it("refuses 1 MB prompts from lower bounds, prose and a repeated character alike", () => {
    expect(tok.maxTokenBytes).toBe(128);
    for (const kind of ["words", "x"] as const) {
      const r = tok.encodeWithin(bigPrompt(kind, MB, 1), 32768);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.atLeast).toBeGreaterThan(32768);
    }
  });

  it("returns exactly the whole-text ids when the prompt fits, and refuses when it does not", () => {
    const readme = readFileSync("README.md", "utf8");
    const texts = [
      readme,
      bigPrompt("words", 120_000, 7),
      "héllo e\u0301 wörld 東京 🚀 ".repeat(2000),
      `<|im_start|>user\n${bigPrompt("words", 60_000, 3)}<|im_end|>\n<|im_start|>assistant\n<tool_call>{"a":1}</tool_call>`,
      "x".repeat(50_000) + " end",
    ];
    for (const text of texts) {
      const all = tok.encode(text);
      const fits = tok.encodeWithin(text, all.length);
      expect(fits.ok && fits.ids).toEqual(all);
      const over = tok.encodeWithin(text, all.length - 1);
      expect(over.ok).toBe(false);
    }
  });
});

describe("tokenization threads", () => {
  let threads: PromptThreads;
  beforeAll(async () => {
    threads = PromptThreads.create(tok.files, tok.extraEosIds, tok.boundsData, 2);
    await threads.ready();
  }, 60_000);
  afterAll(() => threads?.close());

  it("give the same prompt as the main thread", async () => {
    const job = makeJob({ kind: "chat", prompt: undefined, messages: [{ role: "system", content: "Be brief." }, { role: "user", content: bigPrompt("words", 40_000, 5) }] });
    const main = renderPrompt(job, tok, 32768);
    const thread = await threads.prepare(job, 32768);
    if (!main.ok || !thread.ok) throw new Error("both must render");
    // Same ids and text (the timings differ, and each side measured its own).
    expect({ ids: thread.value.ids, text: thread.value.text }).toEqual({ ids: main.value.ids, text: main.value.text });
    expect(thread.value.timing?.tokenizeMs).toBeGreaterThan(0);
    const big = makeJob({ prompt: bigPrompt("x", MB, 2) });
    const refused = await threads.prepare(big, 32768);
    expect(!refused.ok && refused.error.code).toBe("context_length_exceeded");
  });

  it("a crashed thread is replaced and its request fails cleanly", async () => {
    const job = makeJob({ prompt: bigPrompt("words", 100_000, 9) });
    // Both threads get work (the crash must hit a pending request), then one dies.
    const pending = [threads.prepare(job, 1_000_000), threads.prepare(makeJob({ prompt: bigPrompt("words", 100_000, 10) }), 1_000_000)];
    await threads.crashForTest(0);
    const results = await Promise.all(pending);
    expect(results.some((r) => !r.ok && r.error.code === "tokenizer_failed")).toBe(true);
    expect(threads.replaced).toBe(1);
    await threads.ready();
    const again = await threads.prepare(job, 1_000_000);
    expect(again.ok).toBe(true);
  }, 60_000);
});

describe("oversized prompts end to end", () => {
  let stack: FullStack;
  let edge: NodeEdge;
  const key = "sk-oversized-test";
  beforeAll(async () => {
    stack = await startFullStack({ pool: { tokenizerThreads: 1 } });
    await stack.addPool();
    edge = await stack.addEdge({}, { bodyCheck: { threads: 1, minBytes: 256 * 1024 } });
    stack.url = edge.url;
    await stack.seed({ tenantId: "flood", key });
    await stack.seed({ tenantId: "small", key: `${key}-small` });
  }, 60_000);
  afterAll(() => stack?.stop());

  const post = (body: unknown, k = key, path = "/v1/chat/completions") =>
    fetch(`${stack.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${k}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("the edge refuses 1 MB prompts from the tokenizer bounds the pools advertise, before queueing", async () => {
    const claimed = () => stack.pools.reduce((n, p) => n + p.stats().claimed, 0);
    const before = claimed();
    const refusedOffLoop = edge.bodyCheck!.refused;
    for (const kind of ["words", "x"] as const) {
      const res = await post({ model: SIM_MODEL, max_tokens: 16, messages: [{ role: "user", content: bigPrompt(kind, MB, 1) }] });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string; param: string } };
      expect(body.error.code).toBe("context_length_exceeded");
      expect(body.error.param).toBe("messages");
      expect(body.error.message).toMatch(/at least \d+ tokens/);
      // never queued: no request meta was written for it
      expect(await stack.r.exists(keys.meta(res.headers.get("x-request-id")!))).toBe(0);
    }
    // decided by the body-check thread, not on the event loop
    expect(edge.bodyCheck!.refused).toBe(refusedOffLoop + 2);
    // a prompt that fits is still served, by a pool
    const ok = await post({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: bigPrompt("words", 20_000, 2) }] });
    expect(ok.status).toBe(200);
    expect(claimed()).toBe(before + 1);
  });

  it("the Messages and Responses APIs refuse 1 MB prompts off the event loop too, in their own shapes", async () => {
    const refused = edge.bodyCheck!.refused;
    const messages = await fetch(`${stack.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, max_tokens: 16, messages: [{ role: "user", content: bigPrompt("words", MB, 5) }] }),
    });
    expect(messages.status).toBe(400);
    expect(await messages.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const responses = await post({ model: SIM_MODEL, input: bigPrompt("x", MB, 6) }, key, "/v1/responses");
    expect(responses.status).toBe(400);
    expect(((await responses.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: "context_length_exceeded", param: "input" });
    const garbage = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: `{"model": "${SIM_MODEL}", "messages": [{"role": "user", "content": "${"a".repeat(300_000)}"`,
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    expect(edge.bodyCheck!.refused).toBe(refused + 3);
  });

  it("a key that may not use the model gets permission_denied, as in line, not a context refusal", async () => {
    await stack.seed({ tenantId: "flood", key: `${key}-other-model`, models: ["another-model"] });
    const refused = edge.bodyCheck!.refused;
    const res = await post({ model: SIM_MODEL, max_tokens: 16, messages: [{ role: "user", content: bigPrompt("words", MB, 7) }] }, `${key}-other-model`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: "permission_denied", param: "model" });
    expect(edge.bodyCheck!.refused).toBe(refused);
  });

  it("a body the threads pass is served by its route as before", async () => {
    const everyBody = await stack.addEdge({}, { bodyCheck: { threads: 1, minBytes: 1 } });
    const res = await fetch(`${everyBody.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content.length).toBeGreaterThan(0);
    expect(everyBody.bodyCheck!.refused).toBe(0);
  });

  it("the pool refuses a 1 MB prompt enqueued directly", async () => {
    const job = makeJob({ prompt: bigPrompt("words", MB, 4) });
    const conn = stack.redis!.client();
    const reading = readUntilTerminal(conn, job.id);
    await enqueue(stack.r, job);
    const entries = await reading;
    conn.disconnect();
    const last = entries[entries.length - 1].event;
    expect(last.type === "error" && last.error.code).toBe("context_length_exceeded");
  });

  it("a small request completes while ten 1 MB prompts are refused", async () => {
    const flood = Array.from({ length: 10 }, (_, i) => post({ model: SIM_MODEL, max_tokens: 16, messages: [{ role: "user", content: bigPrompt(i % 2 ? "x" : "words", MB, 100 + i) }] }));
    const small = await post({ model: SIM_MODEL, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, `${key}-small`);
    expect(small.status).toBe(200);
    const json = (await small.json()) as { choices: { finish_reason: string }[] };
    expect(json.choices[0].finish_reason).toBeTruthy();
    const refused = await Promise.all(flood);
    for (const r of refused) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
    }
  }, 60_000);
});
