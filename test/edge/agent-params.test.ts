// Every parameter of the agent features is validated at the edge: a mistake
// (or a field we cannot honour) is a 400 naming it, never a 500, and nothing
// reaches the queue.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { CONTEXT_LENGTH, MODEL, chatBody, post, startHarness, type EdgeHarness } from "./helpers.js";

let h: EdgeHarness;
const KEY = "sk-agent-params";

beforeAll(async () => {
  h = await startHarness();
  await h.seed({ tenantId: "t1", key: KEY });
});
afterAll(() => h?.stop());

const TOOL = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };

async function refused(path: string, body: Record<string, unknown>, param: string, code = "invalid_request") {
  const res = await post(h.edge.url + path, KEY, JSON.stringify(body));
  const json = (await res.json()) as { error: { code: string; param: string | null; message: string } };
  expect({ status: res.status, code: json.error.code, param: json.error.param }).toEqual({ status: 400, code, param });
  expect(json.error.message.length).toBeGreaterThan(10);
}

const chat = (extra: Record<string, unknown>) => JSON.parse(chatBody(extra)) as Record<string, unknown>;
const completion = (extra: Record<string, unknown>) => ({ model: MODEL, prompt: "Hi", ...extra });

describe("chat completions: agent parameters", () => {
  it("tool messages need a tool_call_id; only assistants carry tool_calls", async () => {
    await refused("/v1/chat/completions", chat({ messages: [{ role: "user", content: "x" }, { role: "tool", content: "42" }] }), "messages.1.tool_call_id");
    const call = { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } };
    await refused("/v1/chat/completions", chat({ messages: [{ role: "user", content: "x", tool_calls: [call] }] }), "messages.0.tool_calls");
    await refused("/v1/chat/completions", chat({ messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c", type: "function" }] }] }), "messages.0.tool_calls.0.function");
  });

  it("tools: bad names, duplicate names and schemas the engine cannot compile", async () => {
    await refused("/v1/chat/completions", chat({ tools: [{ type: "function", function: { name: "has space" } }] }), "tools.0.function.name");
    await refused("/v1/chat/completions", chat({ tools: [TOOL, TOOL] }), "tools.1");
    const bad = { type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "strng" } } } } };
    await refused("/v1/chat/completions", chat({ tools: [bad] }), "tools.0");
    const unsupported = { type: "function", function: { name: "f", parameters: { type: "object", if: { type: "object" } } } };
    await refused("/v1/chat/completions", chat({ tools: [unsupported] }), "tools.0");
    const dangling = { type: "function", function: { name: "f", parameters: { $ref: "#/$defs/missing" } } };
    await refused("/v1/chat/completions", chat({ tools: [dangling] }), "tools.0");
    await refused("/v1/chat/completions", chat({ tools: [{ type: "retrieval" }] }), "tools.0.type");
  });

  it("tool_choice must name an offered tool and needs tools", async () => {
    await refused("/v1/chat/completions", chat({ tools: [TOOL], tool_choice: { type: "function", function: { name: "other" } } }), "tool_choice");
    await refused("/v1/chat/completions", chat({ tool_choice: "required" }), "tool_choice");
    await refused("/v1/chat/completions", chat({ tools: [TOOL], tool_choice: "sometimes" }), "tool_choice");
    await refused("/v1/chat/completions", chat({ tools: [TOOL], parallel_tool_calls: "yes" }), "parallel_tool_calls");
  });

  it("response_format: unknown types, missing or invalid schemas", async () => {
    await refused("/v1/chat/completions", chat({ response_format: { type: "xml" } }), "response_format.type");
    await refused("/v1/chat/completions", chat({ response_format: { type: "json_schema", json_schema: { name: "x" } } }), "response_format");
    await refused("/v1/chat/completions", chat({ response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: 3 } } } }), "response_format");
    await refused("/v1/chat/completions", chat({ response_format: { type: "json_schema", json_schema: { name: "bad name!", schema: {} } } }), "response_format.json_schema.name");
  });

  it("logprobs, reasoning and thinking switches", async () => {
    await refused("/v1/chat/completions", chat({ top_logprobs: 3 }), "top_logprobs");
    await refused("/v1/chat/completions", chat({ logprobs: true, top_logprobs: 21 }), "top_logprobs");
    await refused("/v1/chat/completions", chat({ reasoning_effort: "extreme" }), "reasoning_effort");
    await refused("/v1/chat/completions", chat({ chat_template_kwargs: { enable_thinking: "yes" } }), "chat_template_kwargs.enable_thinking");
    await refused("/v1/chat/completions", chat({ reasoning_effort: "none", chat_template_kwargs: { enable_thinking: true } }), "reasoning_effort");
  });

  it("a string with half a surrogate pair is refused by path (Redis's Lua JSON cannot carry it)", async () => {
    const body = chatBody({ stop: ["ok"] }).replace('"ok"', '"a\\ud83d"');
    const res = await post(h.edge.url + "/v1/chat/completions", KEY, body);
    const json = (await res.json()) as { error: { param: string | null } };
    expect({ status: res.status, param: json.error.param }).toEqual({ status: 400, param: "stop.0" });
    // A whole pair passes that check (and is refused later, for its huge max_tokens, so nothing is queued).
    const paired = await post(h.edge.url + "/v1/chat/completions", KEY, chatBody({ stop: ["ok"], max_tokens: CONTEXT_LENGTH }).replace('"ok"', '"a\\ud83d\\ude00"'));
    expect(((await paired.json()) as { error: { param: string } }).error.param).toBe("max_tokens");
  });

  it("sampling extensions: top_k is -1 (off) or positive; logit_bias keys are token ids", async () => {
    await refused("/v1/chat/completions", chat({ top_k: 0 }), "top_k");
    await refused("/v1/chat/completions", chat({ top_k: 2.5 }), "top_k");
    await refused("/v1/chat/completions", chat({ logit_bias: { hello: 5 } }), "logit_bias.hello");
    await refused("/v1/chat/completions", chat({ logit_bias: { "42": 101 } }), "logit_bias.42");
  });

  it("fields we cannot honour are refused, not ignored", async () => {
    await refused("/v1/chat/completions", chat({ echo: true }), "echo");
    await refused("/v1/chat/completions", chat({ functions: [{ name: "f" }] }), "functions");
    await refused("/v1/chat/completions", chat({ audio: { voice: "alloy", format: "mp3" } }), "audio");
    await refused("/v1/chat/completions", chat({ modalities: ["text", "audio"] }), "modalities");
    await refused("/v1/chat/completions", chat({ prediction: { type: "content", content: "x" } }), "prediction");
    await refused("/v1/chat/completions", chat({ store: true }), "store");
  });

  it("output limits beyond the model's context are context_length_exceeded, 2^32 included", async () => {
    await refused("/v1/chat/completions", chat({ max_tokens: CONTEXT_LENGTH }), "max_tokens", "context_length_exceeded");
    await refused("/v1/chat/completions", chat({ max_completion_tokens: CONTEXT_LENGTH + 1 }), "max_tokens", "context_length_exceeded");
    await refused("/v1/chat/completions", chat({ max_tokens: 4294967296 }), "max_tokens");
    await refused("/v1/completions", completion({ max_tokens: 4294967296 }), "max_tokens");
  });
});

describe("completions: parameters we cannot honour", () => {
  it("best_of > 1, suffix, echo and logprobs > 5 are refused", async () => {
    await refused("/v1/completions", completion({ best_of: 2 }), "best_of");
    await refused("/v1/completions", completion({ suffix: "end" }), "suffix");
    await refused("/v1/completions", completion({ echo: true }), "echo");
    await refused("/v1/completions", completion({ logprobs: 6 }), "logprobs");
  });

  it("nothing refused was queued", async () => {
    expect(await h.r.zcard(keys.pools())).toBe(1);
    const queued = await h.r.keys("*q:*");
    for (const k of queued) {
      const type = await h.r.type(k);
      if (type === "list") expect(await h.r.llen(k)).toBe(0);
    }
  });
});
