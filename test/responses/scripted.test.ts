// The Responses translation against a scripted pool (test/edge/helpers.ts
// FakePool writes exact internal events): item boundaries (reasoning, then
// text, then a call, with whitespace between them opening no message), the
// streamed and non-streamed objects being equal, and a pool error mid-stream
// (`error` then `response.failed`, partial items incomplete, stored as failed).
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import type { ResponseEvent } from "../../contract/queue/messages.js";
import { FakePool, MODEL, registerPool } from "../edge/helpers.js";
import { startFullStack, type FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";
import { checkEventOrder, parseSse } from "./helpers.js";

const KEY = "sk-responses-scripted-01";
const TENANT = "t-scripted";
let stack: FullStack;
let pool: FakePool;
let client: OpenAI;
beforeAll(async () => {
  stack = await startFullStack({ noPool: true });
  await registerPool(stack.r, "fake", [MODEL]);
  await stack.seed({ tenantId: TENANT, key: KEY });
  pool = new FakePool(stack.redis!);
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: KEY, maxRetries: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const chunk = (c: Partial<Extract<ResponseEvent, { type: "chunk" }>["choices"][number]>): ResponseEvent => ({
  type: "chunk",
  choices: [{ index: 0, text: "", token_ids: [1], finish_reason: null, ...c }],
});

/** reasoning, whitespace, text, whitespace, a tool call in pieces, done */
const SCRIPT: ResponseEvent[] = [
  chunk({ reasoning: "Let me " }),
  chunk({ reasoning: "think." }),
  chunk({ text: "\n\n" }),
  chunk({ text: "I will " }),
  chunk({ text: "check.\n" }),
  chunk({ tool_calls: [{ index: 0, id: "call_x1", name: "get_weather", arguments: '{"city":' }] }),
  chunk({ tool_calls: [{ index: 0, arguments: '"Oslo"}' }], finish_reason: "tool_calls" }),
  { type: "done", usage: { prompt_tokens: 20, completion_tokens: 12, cached_tokens: 4, reasoning_tokens: 3 } },
];

async function serve(events: ResponseEvent[]): Promise<string> {
  const job = await pool.claim(TENANT);
  for (const ev of events) await pool.write(job.id, ev);
  return job.id;
}

describe("item boundaries", () => {
  it("reasoning, message and function_call items, the same streamed and not", async () => {
    const [plain] = await Promise.all([client.responses.create({ model: MODEL, input: "weather?" }), serve(SCRIPT)]);
    expect(plain.output.map((o) => o.type)).toEqual(["reasoning", "message", "function_call"]);
    const [rs, msg, fc] = plain.output as [OpenAI.Responses.ResponseReasoningItem, OpenAI.Responses.ResponseOutputMessage, OpenAI.Responses.ResponseFunctionToolCall];
    expect(rs.content).toEqual([{ type: "reasoning_text", text: "Let me think." }]);
    // the whitespace between reasoning and text is kept in front of the text (it opened no item of its own)
    expect(msg.content).toEqual([{ type: "output_text", text: "\n\nI will check.\n", annotations: [] }]);
    expect(fc).toMatchObject({ type: "function_call", call_id: "call_x1", name: "get_weather", arguments: '{"city":"Oslo"}', status: "completed" });
    expect(plain.usage).toEqual({
      input_tokens: 20,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 32,
    });

    const [res] = await Promise.all([
      fetch(`${stack.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, input: "weather?", stream: true }),
      }),
      serve(SCRIPT),
    ]);
    const events = parseSse(await res.text());
    checkEventOrder(events);
    const done = events[events.length - 1]!.response as OpenAI.Responses.Response;
    const strip = (r: OpenAI.Responses.Response) => JSON.parse(JSON.stringify(r.output).replaceAll(r.id.slice(5), "X")) as unknown;
    expect(strip(done)).toEqual(strip(plain));
    expect(done.usage).toEqual(plain.usage);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.reasoning_text.delta",
      "response.reasoning_text.delta",
      "response.reasoning_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it("whitespace alone before a call opens no message item", async () => {
    const [r] = await Promise.all([
      client.responses.create({ model: MODEL, input: "x" }),
      serve([chunk({ text: "\n" }), chunk({ tool_calls: [{ index: 0, id: "call_y", name: "f", arguments: "{}" }], finish_reason: "tool_calls" }), SCRIPT[7]!]),
    ]);
    expect(r.output.map((o) => o.type)).toEqual(["function_call"]);
  });
});

describe("a pool error", () => {
  it("mid-stream: error then response.failed, the open item incomplete; the SDK rejects; stored as failed", async () => {
    const failure = { status: 503, type: "server_error", code: "worker_lost", message: "The worker was lost." } as const;
    const [res, rid] = await Promise.all([
      fetch(`${stack.url}/v1/responses`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, input: "x", stream: true }),
      }),
      serve([chunk({ text: "partial" }), { type: "error", error: failure }]),
    ]);
    const events = parseSse(await res.text());
    checkEventOrder(events);
    const types = events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(["error", "response.failed"]);
    expect(events[events.length - 2]).toMatchObject({ code: "worker_lost", message: "The worker was lost." });
    const failed = events[events.length - 1]!.response as OpenAI.Responses.Response;
    expect(failed.status).toBe("failed");
    expect(failed.error).toEqual({ code: "worker_lost", message: "The worker was lost." });
    expect(failed.output[0]).toMatchObject({ type: "message", status: "incomplete" });
    await waitFor(async () => (await stack.r.hget(keys.storedResponse(TENANT, rid), "s")) === "done", "stored by the end hook");
    expect((await client.responses.retrieve(rid)).status).toBe("failed");

    const stream = client.responses.stream({ model: MODEL, input: "x" });
    const seen: Parameters<typeof checkEventOrder>[0][number][] = [];
    stream.on("event", (e) => seen.push(e as never));
    const [caught] = await Promise.all([stream.finalResponse().catch((e: unknown) => e), serve([{ type: "error", error: failure }])]);
    // the SDK stops at `error`: what came before it is a well-formed prefix
    checkEventOrder(seen.filter((e) => e.type !== "error"), { partial: true });
    // The SDK rejects finalResponse() with the `error` event itself (as with OpenAI's own servers).
    expect(caught).toMatchObject({ type: "error", code: "worker_lost", message: "The worker was lost." });
  });

  it("not streamed: the pool's status and error body", async () => {
    const failure = { status: 400, type: "invalid_request_error", code: "invalid_prompt", message: "The chat template refused the messages." } as const;
    const [err] = await Promise.all([
      client.responses.create({ model: MODEL, input: "x" }).catch((e: unknown) => e),
      serve([{ type: "error", error: failure }]),
    ]);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as APIError).code).toBe("invalid_prompt");
  });
});
