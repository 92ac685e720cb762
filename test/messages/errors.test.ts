// Client mistakes and limits on the Messages API: always a 4xx (never a 500)
// in Anthropic's error shape with its status codes, whichever layer refused
// (route validation, auth, the 405/404 router, quota admission, the queue
// deadline); the SDK's error classes follow from the statuses. Also the
// anthropic-ratelimit-* headers, and count_tokens not spending the quota.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys, utcDay } from "../../contract/queue/keys.js";
import type { FullStack } from "../helpers/full-stack.js";
import { waitFor } from "../../scripts/wait.js";
import { anthropicClient, expectEventOrder, messagesStack, parseSse, post, SIM_MODEL, type StreamEvent } from "./helpers.js";

const KEY = "sk-messages-errors-0001";
let stack: FullStack;

beforeAll(async () => {
  ({ stack } = await messagesStack(KEY));
});
afterAll(async () => {
  await stack?.stop();
});

const USER = [{ role: "user", content: "Hello" }];
const ok = (over: Record<string, unknown> = {}) => ({ model: SIM_MODEL, max_tokens: 8, messages: USER, ...over });
const user = (content: unknown) => ok({ messages: [{ role: "user", content }] });

async function expectAnthropicError(res: Response, status: number, type: string, mention?: string | RegExp): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
  expect(Object.keys(body).sort()).toEqual(["error", "type"]);
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  expect(typeof body.error.message).toBe("string");
  if (mention !== undefined) expect(body.error.message).toMatch(mention);
}

describe("bad input: 400 invalid_request_error naming what is wrong", () => {
  const CASES: [string, unknown, RegExp][] = [
    ["an image block", user([{ type: "image", source: { type: "base64", media_type: "image/png", data: "AA==" } }]), /image.*text-only/],
    ["a document block", user([{ type: "document", source: { type: "text", media_type: "text/plain", data: "x" } }]), /document/],
    ["an unknown block type", user([{ type: "hologram", text: "x" }]), /'hologram'/],
    ["a text block without text", user([{ type: "text" }]), /messages\.0\.content\.0\.text/],
    ["an image inside a tool_result", user([{ type: "tool_result", tool_use_id: "t1", content: [{ type: "image", source: {} }] }]), /image/],
    ["a tool_result without tool_use_id", user([{ type: "tool_result", content: "x" }]), /tool_use_id/],
    ["redacted thinking", ok({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: [{ type: "redacted_thinking", data: "x" }] }, { role: "user", content: "b" }] }), /redacted_thinking/],
    ["a tool_use in a user turn", user([{ type: "tool_use", id: "t", name: "f", input: {} }]), /tool_use/],
    ["a final assistant message (prefill)", ok({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "The answer is" }] }), /prefill/],
    ["missing max_tokens", { model: SIM_MODEL, messages: USER }, /max_tokens/],
    ["max_tokens 0", ok({ max_tokens: 0 }), /max_tokens/],
    ["no messages", ok({ messages: [] }), /messages/],
    ["a bad role", ok({ messages: [{ role: "tool", content: "x" }] }), /role/],
    ["temperature above 1", ok({ temperature: 1.5 }), /temperature/],
    ["a server tool", ok({ tools: [{ type: "web_search_20250305", name: "web_search" }] }), /Server tools/],
    ["a tool without input_schema", ok({ tools: [{ name: "f" }] }), /input_schema/],
    ["a tool choice naming no tool", ok({ tools: [{ name: "f", input_schema: { type: "object" } }], tool_choice: { type: "tool", name: "g" } }), /'g'/],
    ["an unknown tool choice", ok({ tool_choice: { type: "sometimes" } }), /tool_choice/],
    ["a thinking budget below 1024", ok({ max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 100 } }), /budget_tokens/],
    ["a thinking budget not below max_tokens", ok({ max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 2000 } }), /budget_tokens/],
    ["mcp_servers", ok({ mcp_servers: [{ type: "url", url: "https://x", name: "x" }] }), /mcp_servers/],
    ["citations on a text block", user([{ type: "text", text: "x", citations: [{ type: "char_location" }] }]), /Citations/],
    ["an empty stop sequence", ok({ stop_sequences: [""] }), /stop_sequences/],
    ["graded effort", ok({ output_config: { effort: "high" } }), /effort/],
    ["thinking shown as omitted", ok({ max_tokens: 4000, thinking: { type: "adaptive", display: "omitted" } }), /omitted/],
    ["an unknown thinking type", ok({ thinking: { type: "between_tools" } }), /thinking/],
    ["an output schema the engine cannot compile", ok({ output_config: { format: { type: "json_schema", schema: { type: "wobbly" } } } }), /output_config\.format/],
    ["fast mode", ok({ speed: "fast" }), /speed/],
  ];
  for (const [what, body, mention] of CASES) {
    it(what, async () => {
      await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, body), 400, "invalid_request_error", mention);
    });
  }

  it("bad JSON, a non-object body and an empty body", async () => {
    await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, "{not json"), 400, "invalid_request_error", /JSON/);
    await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, "[1,2]"), 400, "invalid_request_error", /JSON object/);
    await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, ""), 400, "invalid_request_error");
  });

  it("a malformed anthropic-version; anthropic-beta is accepted", async () => {
    await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, ok(), { "anthropic-version": "latest" }), 400, "invalid_request_error", /anthropic-version/);
    const beta = await post(`${stack.url}/v1/messages`, KEY, ok(), { "anthropic-beta": "fine-grained-tool-streaming-2025-05-14" });
    expect(beta.status).toBe(200);
  });

  it("the SDK raises BadRequestError with the body's error type", async () => {
    const client = anthropicClient(stack.url, KEY);
    const err = await client.messages.create({ model: SIM_MODEL, max_tokens: 8, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).type).toBe("invalid_request_error");
  });
});

describe("errors raised before the route runs, in Anthropic's shape", () => {
  it("405 on a wrong method, 404 on an unknown path or model, OpenAI's shape elsewhere", async () => {
    const get = await fetch(`${stack.url}/v1/messages`, { headers: { "x-api-key": KEY } });
    expect(get.headers.get("allow")).toBe("POST");
    await expectAnthropicError(get, 405, "invalid_request_error");
    await expectAnthropicError(await post(`${stack.url}/v1/messages/batches`, KEY, {}), 404, "not_found_error");
    await expectAnthropicError(await post(`${stack.url}/v1/messages`, KEY, ok({ model: "no-such-model" })), 404, "not_found_error", /no-such-model/);
    // The chat API keeps OpenAI's shape.
    const chat = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer nope" }, body: "{}" });
    expect(((await chat.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
  });

  it("413 request_too_large on an oversized body", async () => {
    const edge = await stack.addEdge({ maxBodyBytes: 2048 });
    await expectAnthropicError(await post(`${edge.url}/v1/messages`, KEY, user("x".repeat(4096))), 413, "request_too_large");
  });

  it("a key limited to other models: 403 permission_error (PermissionDeniedError)", async () => {
    await stack.seed({ tenantId: "narrow", key: "sk-messages-narrow-01", models: ["other-model"] });
    const err = await anthropicClient(stack.url, "sk-messages-narrow-01").messages.create(ok() as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
  });
});

describe("rate limits", () => {
  it("a 429 is the SDK's RateLimitError with retry-after; both header families on every answer; count_tokens spends nothing", async () => {
    const key = "sk-messages-limited-01";
    await stack.seed({ tenantId: "limited", key, limits: { requests_per_minute: 2, tokens_per_minute: 100_000 } });
    const client = anthropicClient(stack.url, key);
    // count_tokens goes through auth but not through the quota: three of them leave both requests.
    for (let i = 0; i < 3; i++) expect((await client.messages.countTokens({ model: SIM_MODEL, messages: [{ role: "user", content: "Hi" }] })).input_tokens).toBeGreaterThan(0);

    const first = await client.messages.create({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }).withResponse();
    const h = first.response.headers;
    expect(h.get("x-ratelimit-limit-requests")).toBe("2");
    expect(h.get("anthropic-ratelimit-requests-limit")).toBe("2");
    expect(h.get("anthropic-ratelimit-requests-remaining")).toBe(h.get("x-ratelimit-remaining-requests"));
    expect(h.get("anthropic-ratelimit-tokens-limit")).toBe("100000");
    expect(h.get("anthropic-ratelimit-tokens-remaining")).toBe(h.get("x-ratelimit-remaining-tokens"));
    for (const kind of ["requests", "tokens"]) {
      const reset = Date.parse(h.get(`anthropic-ratelimit-${kind}-reset`)!);
      expect(reset).toBeGreaterThan(Date.now() - 1000);
      expect(reset).toBeLessThanOrEqual(Date.now() + 61_000);
    }

    // The second one streams: headers are there too.
    const events: StreamEvent[] = [];
    const s = client.messages.stream({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] });
    s.on("streamEvent", (e) => events.push(e));
    const second = await s.finalMessage();
    expectEventOrder(events);
    expect((await s.withResponse()).response.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");

    const err = await client.messages.create({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rl = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rl.status).toBe(429);
    expect(rl.type).toBe("rate_limit_error");
    expect(Number(rl.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(rl.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");

    // The tenant's usage holds the two messages only (the counts ran earlier and added nothing).
    const usageKey = keys.usage("limited", utcDay(Date.now()));
    const u = await waitFor(async () => {
      const h = await stack.r.hgetall(usageKey);
      return h.requests === "2" ? h : undefined;
    }, "the settlement of both messages");
    const whole = (m: Anthropic.Message) => m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0);
    expect(Number(u.prompt_tokens)).toBe(whole(first.data) + whole(second));
  });
});

describe("overload", () => {
  let busy: FullStack;
  beforeAll(async () => {
    // One request at a time in the pool, and a short queue deadline at the edge.
    ({ stack: busy } = await messagesStack(KEY, { pool: { maxInFlight: 1 }, edge: { queueDeadlineMs: 300 }, sim: { decodeMsPerToken: 5 } }));
  });
  afterAll(async () => {
    await busy?.stop();
  });

  it("a queue timeout is 529 overloaded_error (the SDK's OverloadedError), and an error event mid-stream", async () => {
    const client = anthropicClient(busy.url, KEY);
    // The hog holds the pool's only slot (its first block has started) for 400 tokens x 5 ms.
    const hog = client.messages.stream({ model: SIM_MODEL, max_tokens: 400, messages: [{ role: "user", content: "Go on and on." }] });
    const hogEvents: StreamEvent[] = [];
    await new Promise<void>((resolve) =>
      hog.on("streamEvent", (e) => {
        hogEvents.push(e);
        if (e.type === "content_block_start") resolve();
      }),
    );
    const err = await client.messages.create({ model: SIM_MODEL, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.OverloadedError);
    expect((err as InstanceType<typeof Anthropic.OverloadedError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.OverloadedError>).type).toBe("overloaded_error");

    const res = await post(`${busy.url}/v1/messages`, KEY, { model: SIM_MODEL, max_tokens: 4, stream: true, messages: USER });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    expect(events[0]!.event).toBe("message_start");
    expect(events.at(-1)!.event).toBe("error");
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect((await hog.finalMessage()).stop_reason).toBe("max_tokens");
    expectEventOrder(hogEvents);
  });
});
