// The OpenAI stream translator (edge/openai/stream.ts) writes each chunk object's JSON
// from a per-stream head and tail around its choices: the text must be exactly the
// object's own JSON (field order included), for chat and completions, with and
// without include_usage, for content, finish and the closing chunks.
import { expect, it } from "vitest";
import { OpenAIStream } from "../../edge/openai/stream.js";
import type { RequestMeta } from "../../edge/queue.js";

const meta = (kind: "chat" | "completion", include_usage: boolean): RequestMeta => ({
  tenant_id: "t",
  model: 'qwen3 "sim"',
  kind,
  stream: true,
  include_usage,
  n: 2,
  logprobs: false,
  created: 1_700_000_000,
  deadline_at: 0,
});

it.each([
  ["chat", true],
  ["chat", false],
  ["completion", true],
  ["completion", false],
] as const)("%s chunks, include_usage %s, are their objects' JSON", (kind, usage) => {
  const tr = new OpenAIStream("chatcmpl-x1", meta(kind, usage), false);
  const base = { id: "chatcmpl-x1", object: kind === "chat" ? "chat.completion.chunk" : "text_completion", created: 1_700_000_000, model: 'qwen3 "sim"', system_fingerprint: null };
  const whole = (choices: unknown[]) => JSON.stringify({ ...base, choices, ...(usage ? { usage: null } : {}) });
  const body = (index: number, text: string, first: boolean) =>
    kind === "chat"
      ? { index, delta: first ? { role: "assistant", content: text } : { content: text }, logprobs: null, finish_reason: null }
      : { index, text, logprobs: null, finish_reason: null };
  const end = (index: number, reason: string) => (kind === "chat" ? { index, delta: {}, logprobs: null, finish_reason: reason } : { index, text: "", logprobs: null, finish_reason: reason });

  const first = tr.chunk({ type: "chunk", choices: [{ index: 0, text: "Hé\n\"", token_ids: [1], finish_reason: null }] }, "1-0");
  expect(first.map((e) => e.data)).toEqual([whole([body(0, 'Hé\n"', true)])]);
  const next = tr.chunk({ type: "chunk", choices: [{ index: 0, text: " 🚀", token_ids: [2], finish_reason: "length" }, { index: 1, text: "b", token_ids: [3], finish_reason: null }] }, "2-0");
  expect(next.map((e) => e.data)).toEqual([whole([body(0, " 🚀", false), body(1, "b", true)]), whole([end(0, "length")])]);
  const done = tr.done({ prompt_tokens: 4, completion_tokens: 3, cached_tokens: 0 }, "3-0");
  const closing = [whole([end(1, "stop")])];
  if (usage) closing.push(JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7, prompt_tokens_details: { cached_tokens: 0 } } }));
  expect(done.map((e) => e.data).slice(0, closing.length)).toEqual(closing);
  expect(done[done.length - 1]!.data).toBe("[DONE]");
});
