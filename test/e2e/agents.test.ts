// Agents through the official openai client, end to end (edge -> Redis -> pool
// -> simulated worker acting as an agentic model): tool-call loops with
// runTools, structured output with parse(), streamed tool-call deltas,
// forced tool choice, reasoning and logprobs.
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { SIM_MODEL, type FullStack } from "../helpers/full-stack.js";
import { KEY, runnerTools, stackWith, TOOLS, validators } from "./agent-fixtures.js";

describe("agents on a Qwen3-style model (tools always called on a user turn, no parallel calls)", () => {
  let stack: FullStack;
  let client: OpenAI;
  beforeAll(async () => {
    ({ stack, client } = await stackWith({ family: "qwen3", toolCallRate: 1, parallelCallRate: 0 }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("runTools completes a call -> tool result -> final answer loop (not streamed)", async () => {
    const calls: { name: string; args: unknown }[] = [];
    const runner = client.chat.completions.runTools({
      model: SIM_MODEL,
      max_tokens: 64,
      messages: [{ role: "user", content: "What is the weather in Paris right now?" }],
      tools: runnerTools(calls),
    });
    const final = await runner.finalChatCompletion();
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const c of calls) expect(validators[c.name]!(c.args)).toBe(true);
    const messages = runner.messages;
    expect(messages.some((m) => m.role === "tool")).toBe(true);
    const answer = final.choices[0]!;
    expect(answer.finish_reason).not.toBe("tool_calls");
    expect(typeof answer.message.content).toBe("string");
    expect(answer.message.content!.length).toBeGreaterThan(0);
    expect(answer.message.content).not.toContain("<tool_call>");
  });

  it("runTools streamed gives the same kind of loop", async () => {
    const calls: { name: string; args: unknown }[] = [];
    const runner = client.chat.completions.runTools({
      model: SIM_MODEL,
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: "What time is it in Tokyo?" }],
      tools: runnerTools(calls),
    });
    const content = await runner.finalContent();
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const c of calls) expect(validators[c.name]!(c.args)).toBe(true);
    expect(content && content.length).toBeGreaterThan(0);
    expect(content).not.toContain("<tool_call>");
  });

  it("stream() assembles tool-call deltas into the calls a non-streamed reply makes", async () => {
    const body = { model: SIM_MODEL, max_tokens: 96, seed: 7, tools: TOOLS, messages: [{ role: "user" as const, content: "Weather in Oslo?" }] };
    const plain = await client.chat.completions.create(body);
    const streamed = await client.chat.completions.stream(body).finalChatCompletion();
    const strip = (m: OpenAI.Chat.ChatCompletionMessage) => m.tool_calls?.map((t) => (t.type === "function" ? [t.function.name, t.function.arguments] : t));
    expect(plain.choices[0]!.finish_reason).toBe("tool_calls");
    expect(plain.choices[0]!.message.content).toBeNull();
    expect(strip(plain.choices[0]!.message)).toEqual(strip(streamed.choices[0]!.message));
    expect(streamed.choices[0]!.finish_reason).toBe("tool_calls");
    const ids = plain.choices[0]!.message.tool_calls!.map((t) => t.id);
    for (const id of ids) expect(id).toMatch(/^call_[A-Za-z0-9_-]+$/);
  });

  it("streams tool-call deltas in OpenAI's shape and ends with an empty delta", async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, stream: true, max_tokens: 96, tools: TOOLS, messages: [{ role: "user", content: "Weather in Rome?" }] }),
    });
    const chunks = (await res.text())
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)));
    const deltas = chunks.flatMap((c) => c.choices.map((ch: { delta: Record<string, unknown> }) => ch.delta));
    const pieces = deltas.flatMap((d) => (d.tool_calls as Record<string, unknown>[] | undefined) ?? []);
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces[0]).toMatchObject({ index: 0, type: "function", function: { name: expect.any(String) } });
    expect(pieces[0]!.id).toMatch(/^call_/);
    expect(pieces.slice(1).every((p) => p.id === undefined)).toBe(true);
    for (const d of deltas) expect(String(d.content ?? "")).not.toMatch(/<\/?tool_call>/);
    const last = chunks.at(-1)!.choices[0];
    expect(last.delta).toEqual({});
    expect(last.finish_reason).toBe("tool_calls");
  });

  it("parse() with a zod response_format returns a parsed object", async () => {
    const Answer = z.object({ city: z.string(), population: z.number().int(), landmarks: z.array(z.string()).min(1) });
    const r = await client.chat.completions.parse({
      model: SIM_MODEL,
      max_tokens: 256,
      messages: [{ role: "user", content: "Describe Lisbon as JSON." }],
      response_format: zodResponseFormat(Answer, "city_info"),
    });
    const parsed = r.choices[0]!.message.parsed;
    expect(parsed).not.toBeNull();
    expect(Answer.safeParse(parsed).success).toBe(true);
  });

  it("structured output with thinking on: reasoning first, then JSON that matches the schema", async () => {
    const Answer = z.object({ city: z.string(), rating: z.number().int().min(1).max(5) });
    const r = await client.chat.completions.parse({
      model: SIM_MODEL,
      max_tokens: 256,
      reasoning_effort: "high",
      messages: [{ role: "user", content: "Rate Porto from 1 to 5, as JSON." }],
      response_format: zodResponseFormat(Answer, "rating"),
    });
    const m = r.choices[0]!.message as typeof r.choices[0]["message"] & { reasoning_content?: string };
    expect(m.reasoning_content?.length).toBeGreaterThan(0);
    expect(Answer.safeParse(m.parsed).success).toBe(true);
    expect(r.choices[0]!.finish_reason).toBe("stop");
  });

  it("json_object mode answers a JSON object", async () => {
    const r = await client.chat.completions.create({
      model: SIM_MODEL,
      max_tokens: 128,
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "Give me a JSON object." }],
    });
    const v = JSON.parse(r.choices[0]!.message.content!);
    expect(typeof v).toBe("object");
    expect(Array.isArray(v)).toBe(false);
  });

  it("reasoning never leaks into content and is counted", async () => {
    const r = await client.chat.completions.create({
      model: SIM_MODEL,
      max_tokens: 160,
      reasoning_effort: "high",
      messages: [{ role: "user", content: "Think, then tell me a story." }],
    });
    const m = r.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
    expect(m.reasoning_content?.length).toBeGreaterThan(0);
    expect(m.content).not.toMatch(/<\/?think>/);
    expect(m.reasoning_content).not.toMatch(/<\/?think>/);
    expect(r.usage!.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens_details!.reasoning_tokens!).toBeLessThan(r.usage!.completion_tokens);

    const stream = await client.chat.completions.create({
      model: SIM_MODEL,
      max_tokens: 160,
      stream: true,
      reasoning_effort: "medium",
      messages: [{ role: "user", content: "Think, then tell me a story." }],
    });
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += d?.reasoning_content ?? "";
      content += d?.content ?? "";
    }
    expect(reasoning).toBe(m.reasoning_content);
    expect(content).toBe(m.content);
  });

  it("reasoning_effort none keeps thinking off", async () => {
    const r = await client.chat.completions.create({
      model: SIM_MODEL,
      max_tokens: 48,
      reasoning_effort: "none" as "low",
      messages: [{ role: "user", content: "Tell me a story." }],
    });
    const m = r.choices[0]!.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
    expect(m.reasoning_content).toBeUndefined();
    expect(m.content!.length).toBeGreaterThan(0);
  });

  it("logprobs align with the text, top alternatives sorted with the chosen token first", async () => {
    const r = await client.chat.completions.create({
      model: SIM_MODEL,
      max_tokens: 40,
      logprobs: true,
      top_logprobs: 3,
      messages: [{ role: "user", content: "Say something with accents: café, naïve, 東京." }],
    });
    const c = r.choices[0]!;
    const entries = c.logprobs!.content!;
    expect(entries.length).toBeGreaterThan(0);
    const bytes = entries.flatMap((e) => e.bytes!);
    expect(Buffer.from(bytes).toString("utf8")).toBe(c.message.content);
    for (const e of entries) {
      expect(e.top_logprobs.length).toBe(3);
      expect(e.logprob).toBeLessThanOrEqual(0);
      const values = e.top_logprobs.map((t) => t.logprob);
      expect([...values].sort((a, b) => b - a)).toEqual(values);
      expect(e.top_logprobs[0]!.token).toBe(e.token);
      expect(e.top_logprobs[0]!.logprob).toBe(e.logprob);
    }
  });

  it("completions logprobs (0-5) come in the legacy shape", async () => {
    const r = await client.completions.create({ model: SIM_MODEL, prompt: "Once upon a time", max_tokens: 40, logprobs: 2 });
    const lp = r.choices[0]!.logprobs!;
    // A token that is part of a character is spelled OpenAI's way, "bytes:\\xNN…": its bytes, not U+FFFD.
    const bytesOf = (t: string) =>
      t.startsWith("bytes:") ? Buffer.from(t.slice(6).split("\\x").filter(Boolean).map((h) => parseInt(h, 16))) : Buffer.from(t, "utf8");
    expect(Buffer.concat(lp.tokens!.map(bytesOf)).toString("utf8")).toBe(r.choices[0]!.text);
    expect(lp.tokens!.join("")).not.toContain("\uFFFD");
    expect(lp.token_logprobs!.length).toBe(lp.tokens!.length);
    const text = r.choices[0]!.text;
    lp.tokens!.forEach((t, i) => {
      if (!t.startsWith("bytes:")) expect(text.slice(lp.text_offset![i], lp.text_offset![i]! + t.length)).toBe(t);
    });
    for (const top of lp.top_logprobs!) expect(Object.keys(top!).length).toBeGreaterThanOrEqual(1);
  });
});

describe("forced tool choice on a model that would answer in text (tool-call rate 0, parallel calls on)", () => {
  let stack: FullStack;
  let client: OpenAI;
  beforeAll(async () => {
    ({ stack, client } = await stackWith({ family: "qwen3", toolCallRate: 0, parallelCallRate: 1 }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const ask = (extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>) =>
    client.chat.completions.create({ model: SIM_MODEL, max_tokens: 128, tools: TOOLS, messages: [{ role: "user", content: "Hello there." }], ...extra });

  it("answers in text by default", async () => {
    const r = await ask({});
    expect(r.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
    expect(r.choices[0]!.finish_reason).toBe("stop");
  });

  it("tool_choice required yields calls with valid arguments", async () => {
    const r = await ask({ tool_choice: "required" });
    const calls = r.choices[0]!.message.tool_calls!;
    expect(calls.length).toBeGreaterThanOrEqual(1);
    for (const t of calls) {
      if (t.type !== "function") throw new Error("expected a function call");
      expect(validators[t.function.name]!(JSON.parse(t.function.arguments))).toBe(true);
    }
    expect(r.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("a named tool_choice calls exactly that function; parallel_tool_calls false keeps one call", async () => {
    const r = await ask({ tool_choice: { type: "function", function: { name: "get_time" } }, parallel_tool_calls: false });
    const calls = r.choices[0]!.message.tool_calls!;
    expect(calls).toHaveLength(1);
    expect(calls[0]!.type === "function" && calls[0]!.function.name).toBe("get_time");
  });

  it("tool_choice none renders no tools: a plain answer", async () => {
    const r = await ask({ tool_choice: "none" });
    expect(r.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });
});

describe("agents on a Kimi K2-style model", () => {
  let stack: FullStack;
  let client: OpenAI;
  beforeAll(async () => {
    ({ stack, client } = await stackWith({ family: "kimi_k2", toolCallRate: 1, parallelCallRate: 1 }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("parses Kimi's markup into calls (two when parallel calls are allowed, one otherwise)", async () => {
    const body = { model: SIM_MODEL, max_tokens: 160, tools: TOOLS, messages: [{ role: "user" as const, content: "Weather and time in Berlin?" }] };
    const two = await client.chat.completions.create(body);
    expect(two.choices[0]!.message.tool_calls).toHaveLength(2);
    expect(two.choices[0]!.message.content ?? "").not.toContain("<|tool_call");
    const one = await client.chat.completions.create({ ...body, parallel_tool_calls: false });
    expect(one.choices[0]!.message.tool_calls).toHaveLength(1);
    const calls: { name: string; args: unknown }[] = [];
    const content = await client.chat.completions.runTools({ ...body, tools: runnerTools(calls) }).finalContent();
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(content!.length).toBeGreaterThan(0);
  });
});
