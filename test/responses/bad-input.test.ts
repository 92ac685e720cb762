// Client mistakes on the Responses API: each is a 4xx in OpenAI's error shape
// naming the offending param, never a 500, and nothing is stored for them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../contract/queue/keys.js";
import { responsesStack, SIM_MODEL, type Env } from "./helpers.js";

const KEY = "sk-responses-bad-01";
const TENANT = "t-bad-01";
let env: Env;
beforeAll(async () => {
  env = await responsesStack(KEY);
});
afterAll(async () => {
  await env?.stack.stop();
});

async function send(body: string | object, init: RequestInit = {}, path = "/v1/responses") {
  const res = await fetch(env.stack.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
  return { status: res.status, error: json.error, headers: res.headers };
}

const FN = { type: "function", name: "f", parameters: { type: "object", properties: {} } };
const base = { model: SIM_MODEL, max_output_tokens: 8 };

const CASES: [string, object, string | null][] = [
  ["missing model", { input: "hi" }, "model"],
  ["input of the wrong type", { ...base, input: 42 }, "input"],
  ["empty input", { ...base, input: [] }, "input"],
  ["an item that is not an object", { ...base, input: ["hi"] }, "input.0"],
  ["an unknown item type", { ...base, input: [{ type: "image_generation_call", id: "x" }] }, "input.0.type"],
  ["an item_reference", { ...base, input: [{ type: "item_reference", id: "msg_1" }] }, "input.0.type"],
  ["a message with an unknown role", { ...base, input: [{ role: "tool", content: "x" }] }, "input.0.role"],
  ["an image part", { ...base, input: [{ role: "user", content: [{ type: "input_image", image_url: "http://x/y.png" }] }] }, "input.0.content.0.type"],
  ["output_text in a user message", { ...base, input: [{ role: "user", content: [{ type: "output_text", text: "x" }] }] }, "input.0.content.0.type"],
  ["a text part without text", { ...base, input: [{ role: "user", content: [{ type: "input_text" }] }] }, "input.0.content.0.text"],
  ["a function_call without call_id", { ...base, input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input.0.call_id"],
  ["a function_call_output without output", { ...base, input: [{ type: "function_call_output", call_id: "c" }] }, "input.0.output"],
  ["encrypted reasoning", { ...base, input: [{ type: "reasoning", summary: [], encrypted_content: "zz" }] }, "input.0.encrypted_content"],
  ["a web_search tool", { ...base, input: "hi", tools: [{ type: "web_search" }] }, "tools.0.type"],
  ["a function tool with a bad name", { ...base, input: "hi", tools: [{ ...FN, name: "no spaces allowed" }] }, "tools.0.name"],
  ["duplicate tool names", { ...base, input: "hi", tools: [FN, FN] }, "tools.1"],
  ["a tool schema that cannot compile", { ...base, input: "hi", tools: [{ ...FN, parameters: { type: "bogus" } }] }, "tools.0"],
  ["tool_choice naming no tool", { ...base, input: "hi", tools: [FN], tool_choice: { type: "function", name: "g" } }, "tool_choice"],
  ["tool_choice required without tools", { ...base, input: "hi", tool_choice: "required" }, "tool_choice"],
  ["tool_choice of a hosted tool", { ...base, input: "hi", tools: [FN], tool_choice: { type: "file_search" } }, "tool_choice"],
  ["an unknown text.format", { ...base, input: "hi", text: { format: { type: "xml" } } }, "text.format.type"],
  ["a json_schema format without schema", { ...base, input: "hi", text: { format: { type: "json_schema", name: "x" } } }, "text.format.schema"],
  ["a json_schema that cannot compile", { ...base, input: "hi", text: { format: { type: "json_schema", name: "x", schema: { type: "bogus" } } } }, "text.format.schema"],
  ["an unknown reasoning effort", { ...base, input: "hi", reasoning: { effort: "extreme" } }, "reasoning.effort"],
  ["reasoning summaries", { ...base, input: "hi", reasoning: { effort: "low", summary: "detailed" } }, "reasoning.summary"],
  ["max_output_tokens 0", { ...base, input: "hi", max_output_tokens: 0 }, "max_output_tokens"],
  ["max_output_tokens as a string", { ...base, input: "hi", max_output_tokens: "10" }, "max_output_tokens"],
  ["temperature out of range", { ...base, input: "hi", temperature: 5 }, "temperature"],
  ["top_p 0", { ...base, input: "hi", top_p: 0 }, "top_p"],
  ["metadata values that are not strings", { ...base, input: "hi", metadata: { a: 1 } }, "metadata.a"],
  ["stream that is not a boolean", { ...base, input: "hi", stream: "yes" }, "stream"],
  ["background mode", { ...base, input: "hi", background: true }, "background"],
  ["include", { ...base, input: "hi", include: ["reasoning.encrypted_content"] }, "include"],
  ["a text verbosity", { ...base, input: "hi", text: { verbosity: "low" } }, "text.verbosity"],
  ["truncation auto", { ...base, input: "hi", truncation: "auto" }, "truncation"],
  ["a conversation", { ...base, input: "hi", conversation: "conv_1" }, "conversation"],
  ["a previous_response_id that is not a string", { ...base, input: "hi", previous_response_id: 7 }, "previous_response_id"],
];

describe("POST /v1/responses refuses mistakes with 400 and the param", () => {
  it.each(CASES)("%s", async (_name, body, param) => {
    const { status, error } = await send(body);
    expect(status).toBe(400);
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(param);
    expect(error.message.length).toBeGreaterThan(0);
    // a schema mistake names the same full path in its message as in param
    if (error.message.startsWith("Invalid value for")) expect(error.message).toContain(`'${param}'`);
  });

  it("bad JSON, a non-object body and an empty body", async () => {
    for (const body of ["{not json", "[1,2]", "null", ""]) {
      const { status, error } = await send(body);
      expect(status).toBe(400);
      expect(error.type).toBe("invalid_request_error");
    }
  });

  it("an unknown model is a 404 naming model", async () => {
    const { status, error } = await send({ ...base, model: "no-such-model", input: "hi" });
    expect(status).toBe(404);
    expect(error.param).toBe("model");
  });

  it("max_output_tokens beyond the model's context is context_length_exceeded naming it", async () => {
    const { status, error } = await send({ ...base, input: "hi", max_output_tokens: 1_000_000 });
    expect(status).toBe(400);
    expect(error.code).toBe("context_length_exceeded");
    expect(error.param).toBe("max_output_tokens");
  });

  it("a refused request leaves nothing stored", async () => {
    await send({ ...base, model: "no-such-model", input: "hi" });
    expect(Number((await env.stack.r.hget(keys.storedBytes(TENANT), "@sum")) ?? 0)).toBe(0);
    expect(await env.stack.r.keys(`sg:{rs:${TENANT}}:resp:*`)).toEqual([]);
  });
});

describe("the stored-response endpoints", () => {
  it("input_items refuses a bad limit, order or after", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "hi", max_output_tokens: 4 });
    for (const [q, param] of [["limit=0", "limit"], ["limit=abc", "limit"], ["order=sideways", "order"], ["after=msg_nope", "after"]] as const) {
      const res = await fetch(`${env.stack.url}/v1/responses/${r.id}/input_items?${q}`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });

  it("wrong methods are 405 with Allow", async () => {
    const put = await fetch(`${env.stack.url}/v1/responses`, { method: "PUT", headers: { authorization: `Bearer ${KEY}` } });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST");
    const patch = await fetch(`${env.stack.url}/v1/responses/resp_x`, { method: "PATCH", headers: { authorization: `Bearer ${KEY}` } });
    expect(patch.status).toBe(405);
    expect(patch.headers.get("allow")).toBe("GET, DELETE");
    const post = await fetch(`${env.stack.url}/v1/responses/resp_x/input_items`, { method: "POST", headers: { authorization: `Bearer ${KEY}` } });
    expect(post.status).toBe(405);
  });

  it("without a key: 401", async () => {
    const res = await fetch(`${env.stack.url}/v1/responses/resp_x`);
    expect(res.status).toBe(401);
  });
});
