// Function calling through the Responses API with the official openai client:
// function_call output items with call ids, a loop that answers them with
// function_call_output items (streamed and not), tool_choice and
// parallel_tool_calls mapped to the same internal request as chat.
import { Ajv } from "ajv";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responsesStack, streamed, SIM_MODEL, textOf, type Env } from "./helpers.js";

const KEY = "sk-responses-tools-01";
const WEATHER = {
  type: "object",
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
};
const TIME = { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"], additionalProperties: false };
const TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: "function", name: "get_weather", description: "Current weather in a city", parameters: WEATHER, strict: true },
  { type: "function", name: "get_time", description: "Current time in a timezone", parameters: TIME, strict: true },
];
const ajv = new Ajv({ strict: false });
const valid: Record<string, (v: unknown) => boolean> = { get_weather: ajv.compile(WEATHER), get_time: ajv.compile(TIME) };

function calls(r: { output: readonly OpenAI.Responses.ResponseOutputItem[] }): OpenAI.Responses.ResponseFunctionToolCall[] {
  return r.output.filter((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === "function_call");
}

describe("on a model that always calls a tool on a user turn", () => {
  let env: Env;
  beforeAll(async () => {
    env = await responsesStack(KEY, { sim: { family: "qwen3", toolCallRate: 1, parallelCallRate: 0 } });
  });
  afterAll(async () => {
    await env?.stack.stop();
  });

  it("function_call -> function_call_output -> final answer (not streamed, store: false)", async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await env.client.responses.create({ model: SIM_MODEL, input, tools: TOOLS, max_output_tokens: 96, store: false });
    const fc = calls(first);
    expect(fc.length).toBe(1);
    expect(fc[0]!.call_id).toMatch(/^call_/);
    expect(fc[0]!.id).toMatch(/^fc_/);
    expect(valid[fc[0]!.name]!(JSON.parse(fc[0]!.arguments))).toBe(true);
    expect(first.status).toBe("completed");
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]));
    input.push({ type: "function_call_output", call_id: fc[0]!.call_id, output: JSON.stringify({ temperature: 21 }) });
    const second = await env.client.responses.create({ model: SIM_MODEL, input, tools: TOOLS, max_output_tokens: 64, store: false });
    expect(calls(second)).toHaveLength(0);
    expect(second.output_text.length).toBeGreaterThan(0);
    expect(second.output_text).not.toContain("<tool_call>");
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
  });

  it("the same loop streamed: function_call_arguments deltas add up to the call", async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: "user", content: "What time is it in Tokyo?" }];
    const { events, final } = await streamed(env.client, { model: SIM_MODEL, input, tools: TOOLS, max_output_tokens: 96 });
    const fc = calls(final);
    expect(fc).toHaveLength(1);
    const args = events.filter((e) => e.type === "response.function_call_arguments.delta").map((e) => e.delta).join("");
    expect(args).toBe(fc[0]!.arguments);
    const done = events.find((e) => e.type === "response.function_call_arguments.done")!;
    expect(done.name).toBe(fc[0]!.name);
    input.push(...(final.output as OpenAI.Responses.ResponseInputItem[]));
    input.push({ type: "function_call_output", call_id: fc[0]!.call_id, output: [{ type: "input_text", text: '{"time":"14:05"}' }] });
    const { final: answer } = await streamed(env.client, { model: SIM_MODEL, input, tools: TOOLS, max_output_tokens: 64 });
    expect(calls(answer)).toHaveLength(0);
    expect(textOf(answer).length).toBeGreaterThan(0);
  });

  it("tool_choice none: no call, a text answer", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Weather in Oslo?", tools: TOOLS, tool_choice: "none", max_output_tokens: 32 });
    expect(calls(r)).toHaveLength(0);
    expect(r.tool_choice).toBe("none");
  });
});

describe("on a model that would answer in text (forced choice, parallel calls on)", () => {
  let env: Env;
  beforeAll(async () => {
    env = await responsesStack(KEY, { sim: { family: "qwen3", toolCallRate: 0, parallelCallRate: 1 } });
  });
  afterAll(async () => {
    await env?.stack.stop();
  });

  it("tool_choice required forces a valid call", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Hello there", tools: TOOLS, tool_choice: "required", max_output_tokens: 128 });
    const fc = calls(r);
    expect(fc.length).toBeGreaterThanOrEqual(1);
    for (const c of fc) expect(valid[c.name]!(JSON.parse(c.arguments))).toBe(true);
  });

  it("a named function forces that function; parallel_tool_calls false allows one call", async () => {
    const r = await env.client.responses.create({
      model: SIM_MODEL,
      input: "Hello there",
      tools: TOOLS,
      tool_choice: { type: "function", name: "get_time" },
      parallel_tool_calls: false,
      max_output_tokens: 128,
    });
    const fc = calls(r);
    expect(fc).toHaveLength(1);
    expect(fc[0]!.name).toBe("get_time");
    expect(r.parallel_tool_calls).toBe(false);
  });
});
