// The edge through the official `openai` SDK and raw HTTP: streamed and
// non-streamed chat completions, a completion, /v1/models. The test plays the
// pool through Redis (FakePool), exactly per contract/queue/README.md.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { JobSchema } from "../../contract/queue/messages.js";
import { MODEL, SseReader, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
let client: OpenAI;
const KEY = "sk-client-test-key";

beforeAll(async () => {
  h = await startHarness();
  await h.seed({ tenantId: "acme", tenantName: "Acme", key: KEY, priority: 2 });
  client = new OpenAI({ baseURL: h.edge.url + "/v1", apiKey: KEY, maxRetries: 0 });
});
afterAll(() => h?.stop());

describe("openai client", () => {
  it("lists the models served by live pools", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
    expect(models.data[0]).toMatchObject({ object: "model", owned_by: "speedgate" });
    const one = await client.models.retrieve(MODEL);
    expect(one.id).toBe(MODEL);
    // An expired pool (score in the past) no longer counts.
    await h.r.zadd(keys.pools(), Date.now() - 1, "old-pool");
    await h.r.set(keys.pool("old-pool"), JSON.stringify({ pool_id: "old-pool", models: ["gone"], started_at: 1 }));
    expect((await client.models.list()).data.map((m) => m.id)).toEqual([MODEL]);
  });

  it("non-streamed chat completion returns what the pool wrote, with usage", async () => {
    const [res, job] = await Promise.all([
      client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: [{ type: "text", text: "Hi " }, { type: "text", text: "there" }] },
        ],
        max_tokens: 20,
        temperature: 0.5,
        stop: "END",
      }),
      h.pool.serve("acme", ["Hello", ", ", "world"], { prompt_tokens: 11, completion_tokens: 3, cached_tokens: 4 }),
    ]);
    expect(res.id).toBe(job.id);
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.object).toBe("chat.completion");
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hello, world" });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14, prompt_tokens_details: { cached_tokens: 4 } });
    // The Job is exactly the contract's shape, with parts flattened and sampling mapped.
    expect(JobSchema.parse(job)).toEqual(job);
    expect(job.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "Hi there" },
    ]);
    expect(job.sampling).toMatchObject({ max_tokens: 20, temperature: 0.5, stop: ["END"], n: 1 });
    expect(job.weight).toBe(2);
    expect(job.stream).toBe(false);
    expect(job.reserved_tokens).toBeGreaterThanOrEqual(20);
  });

  it("streamed chat completion: role first, text, finish_reason, usage chunk", async () => {
    const served = h.pool.serve("acme", ["Stre", "am", "ed"], { prompt_tokens: 5, completion_tokens: 3, cached_tokens: 0 });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "go" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const job = await served;
    for (const ch of chunks) text += ch.choices[0]?.delta.content ?? "";
    expect(text).toBe("Streamed");
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.slice(1).every((c) => c.choices.length === 0 || c.choices[0]!.delta.role === undefined)).toBe(true);
    expect(chunks.every((c) => c.id === job.id && c.object === "chat.completion.chunk")).toBe(true);
    const withFinish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(withFinish.map((c) => c.choices[0]!.finish_reason)).toEqual(["stop"]);
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it("completion (non-streamed and streamed)", async () => {
    const [res, job] = await Promise.all([
      client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 5 }),
      h.pool.serve("acme", [" there", " was"]),
    ]);
    expect(res.id).toMatch(/^cmpl-/);
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]).toMatchObject({ index: 0, text: " there was", finish_reason: "stop" });
    expect(res.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(job.kind).toBe("completion");
    expect(job.prompt).toBe("Once upon a time");

    const served = h.pool.serve("acme", ["a", "b"]);
    const stream = await client.completions.create({ model: MODEL, prompt: ["single"], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("ab");
    expect((await served).prompt).toBe("single");
  });

  it("n > 1 yields every choice", async () => {
    const serve = (async () => {
      const job = await h.pool.claim("acme");
      await h.pool.chunk(job.id, "zero", "stop", 0);
      await h.pool.chunk(job.id, "one", "length", 1);
      await h.pool.done(job.id);
      return job;
    })();
    const res = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }], n: 2 });
    expect((await serve).sampling.n).toBe(2);
    expect(res.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, "zero", "stop"],
      [1, "one", "length"],
    ]);
  });

  it("raw SSE: every data event has the stream entry id, and ends with [DONE]", async () => {
    const res = await post(h.edge.url + "/v1/chat/completions", KEY, chatBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const rid = res.headers.get("x-request-id")!;
    const sse = new SseReader(res);
    const job = await h.pool.claim("acme");
    expect(job.id).toBe(rid);
    const id1 = await h.pool.chunk(rid, "A");
    const id2 = await h.pool.chunk(rid, "B", "stop");
    await h.pool.done(rid);
    const events = (await sse.rest()).filter((e) => e.kind === "event");
    expect(events.slice(0, 2).map((e) => e.id)).toEqual([id1, id2]);
    expect(events[events.length - 1]!.data).toBe("[DONE]");
    expect(events.filter((e) => e.data === "[DONE]")).toHaveLength(1);
  });

  it("x-request-id on every response, errors included", async () => {
    const r1 = await fetch(h.edge.url + "/v1/models", { headers: { authorization: `Bearer ${KEY}` } });
    expect(r1.headers.get("x-request-id")).toMatch(/^req-/);
    const r2 = await post(h.edge.url + "/v1/chat/completions", null, chatBody());
    expect(r2.status).toBe(401);
    expect(r2.headers.get("x-request-id")).toMatch(/^chatcmpl-/);
    const r3 = await fetch(h.edge.url + "/nowhere");
    expect(r3.status).toBe(404);
    expect(r3.headers.get("x-request-id")).toBeTruthy();
  });
});
