// Agent behaviour through the Messages API and the official SDK: a
// tool_use -> tool_result loop (streamed and not), forced tool choice,
// disable_parallel_tool_use, and thinking blocks. The simulated worker acts
// as an agentic Qwen3 model (sim/agent/plan.ts). Every streamed test checks
// the event-order invariants.
import Anthropic from "@anthropic-ai/sdk";
import { zodOutputFormat } from "@anthropic-ai/sdk/helpers/zod";
import { Ajv } from "ajv";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FullStack } from "../helpers/full-stack.js";
import { expectEventOrder, messagesStack, SIM_MODEL, type StreamEvent } from "./helpers.js";

const KEY = "sk-messages-agents-0001";
const WEATHER = {
  type: "object" as const,
  properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
  required: ["city", "unit"],
  additionalProperties: false,
};
const TOOLS: Anthropic.Tool[] = [
  { name: "get_weather", description: "Current weather in a city", input_schema: WEATHER },
  { name: "get_time", description: "Current time in a timezone", input_schema: { type: "object", properties: { timezone: { type: "string" } }, required: ["timezone"] } },
];
const validWeather = new Ajv({ strict: false }).compile(WEATHER);

async function streamed(client: Anthropic, body: Anthropic.MessageStreamParams): Promise<Anthropic.Message> {
  const events: StreamEvent[] = [];
  const s = client.messages.stream(body);
  s.on("streamEvent", (e) => events.push(e));
  const m = await s.finalMessage();
  expectEventOrder(events);
  return m;
}

describe("tools (the model always calls a tool on a user turn, one at a time)", () => {
  let stack: FullStack;
  let client: Anthropic;
  beforeAll(async () => {
    ({ stack, client } = await messagesStack(KEY, { sim: { family: "qwen3", toolCallRate: 1, parallelCallRate: 0 } }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("tool_use -> tool_result -> final answer, the loop an agent runs (streamed and not)", async () => {
    for (const stream of [false, true]) {
      const messages: Anthropic.MessageParam[] = [{ role: "user", content: "What is the weather in Paris right now?" }];
      const body = { model: SIM_MODEL, max_tokens: 128, tools: TOOLS, messages };
      const first = stream ? await streamed(client, body) : await client.messages.create(body);
      expect(first.stop_reason).toBe("tool_use");
      const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
      expect(uses.length).toBeGreaterThanOrEqual(1);
      for (const u of uses) {
        expect(u.id).toMatch(/^call_[A-Za-z0-9_-]+$/);
        expect(["get_weather", "get_time"]).toContain(u.name);
        if (u.name === "get_weather") expect(validWeather(u.input)).toBe(true);
      }
      messages.push({ role: "assistant", content: first.content });
      messages.push({
        role: "user",
        content: uses.map((u, i) => ({
          type: "tool_result" as const,
          tool_use_id: u.id,
          // One result as a string, one as text blocks, an error flagged: all three shapes.
          content: i === 0 ? [{ type: "text" as const, text: '{"temperature": 21, "sky": "clear"}' }] : "14:05",
          ...(i === 1 ? { is_error: true } : {}),
        })),
      });
      const final = stream ? await streamed(client, { ...body, messages }) : await client.messages.create({ ...body, messages });
      expect(final.stop_reason).toBe("end_turn");
      expect(final.content.every((b) => b.type === "text")).toBe(true);
      const text = final.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain("<tool_call>");
    }
  });

  it("streamed tool_use blocks carry the same calls as the non-streamed answer (input_json_delta assembled)", async () => {
    const body = { model: SIM_MODEL, max_tokens: 128, tools: TOOLS, messages: [{ role: "user" as const, content: "Weather in Oslo?" }] };
    const plain = await client.messages.create(body);
    const s = await streamed(client, body);
    // Call ids are derived from the request id: equal up to the ids.
    const noIds = (m: Anthropic.Message) => m.content.map((b) => (b.type === "tool_use" ? { ...b, id: "" } : b));
    expect(noIds(s)).toEqual(noIds(plain));
    expect(s.content.filter((b) => b.type === "tool_use").every((b) => b.type === "tool_use" && b.id.startsWith("call_"))).toBe(true);
    expect(s.stop_reason).toBe("tool_use");
  });

  it("tool_choice {type: tool} forces that tool; none offers no tool; any needs tools", async () => {
    const forced = await client.messages.create({
      model: SIM_MODEL,
      max_tokens: 128,
      tools: TOOLS,
      tool_choice: { type: "tool", name: "get_time" },
      messages: [{ role: "user", content: "What is the weather in Rome?" }],
    });
    const uses = forced.content.filter((b) => b.type === "tool_use");
    expect(uses.length).toBeGreaterThanOrEqual(1);
    expect(uses.every((b) => b.type === "tool_use" && b.name === "get_time")).toBe(true);

    const none = await client.messages.create({ model: SIM_MODEL, max_tokens: 64, tools: TOOLS, tool_choice: { type: "none" }, messages: [{ role: "user", content: "Weather in Rome?" }] });
    expect(none.content.some((b) => b.type === "tool_use")).toBe(false);
    expect(none.stop_reason).not.toBe("tool_use");

    const err = await client.messages.create({ model: SIM_MODEL, max_tokens: 64, tool_choice: { type: "any" }, messages: [{ role: "user", content: "Hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("parallel calls and thinking", () => {
  let stack: FullStack;
  let client: Anthropic;
  beforeAll(async () => {
    ({ stack, client } = await messagesStack(KEY, { sim: { family: "qwen3", toolCallRate: 1, parallelCallRate: 1 } }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("disable_parallel_tool_use: at most one tool_use block, where the model would otherwise make two", async () => {
    const body = { model: SIM_MODEL, max_tokens: 160, tools: TOOLS, messages: [{ role: "user" as const, content: "Weather and time in Lima?" }] };
    const free = await client.messages.create(body);
    expect(free.content.filter((b) => b.type === "tool_use").length).toBe(2);
    const single = await client.messages.create({ ...body, tool_choice: { type: "auto", disable_parallel_tool_use: true } });
    expect(single.content.filter((b) => b.type === "tool_use").length).toBe(1);
  });

  it("thinking enabled: a thinking block (with a signature) before the answer, streamed and not, the same blocks", async () => {
    const body = {
      model: SIM_MODEL,
      // Anthropic's bounds: budget >= 1024 and below max_tokens (the answer after thinking runs to the limit).
      max_tokens: 1100,
      thinking: { type: "enabled" as const, budget_tokens: 1024 },
      messages: [{ role: "user" as const, content: "Why is the sky blue?" }],
    };
    const m = await client.messages.create(body);
    expect(m.content[0]!.type).toBe("thinking");
    const t = m.content[0] as Anthropic.ThinkingBlock;
    expect(t.thinking.length).toBeGreaterThan(0);
    expect(t.thinking).not.toMatch(/<\/?think>/);
    expect(typeof t.signature).toBe("string");
    expect(t.signature.length).toBeGreaterThan(0);
    const text = m.content.filter((b) => b.type === "text");
    expect(text.length).toBe(1);
    expect((text[0] as Anthropic.TextBlock).text).not.toMatch(/<\/?think>/);

    const s = await streamed(client, body);
    expect(s.content).toEqual(m.content);

    // The thinking block goes back in the history (as the SDK returns it) and is accepted.
    const next = await client.messages.create({ ...body, messages: [...body.messages, { role: "assistant", content: m.content }, { role: "user", content: "And at sunset?" }] });
    expect(next.content.some((b) => b.type === "text")).toBe(true);
  });

  it("thinking disabled (or absent): no thinking block", async () => {
    for (const thinking of [{ type: "disabled" as const }, undefined]) {
      const m = await client.messages.create({ model: SIM_MODEL, max_tokens: 64, ...(thinking ? { thinking } : {}), messages: [{ role: "user", content: "Why is the sky blue?" }] });
      expect(m.content.some((b) => b.type === "thinking")).toBe(false);
    }
  });
});

describe("structured output", () => {
  let stack: FullStack;
  let client: Anthropic;
  beforeAll(async () => {
    ({ stack, client } = await messagesStack(KEY, { sim: { family: "qwen3" } }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const City = z.object({ name: z.string(), population: z.number().int(), tags: z.array(z.string()) });

  it("messages.parse with output_config.format: the answer is JSON matching the schema (engine-enforced)", async () => {
    const m = await client.messages.parse({
      model: SIM_MODEL,
      max_tokens: 400,
      messages: [{ role: "user", content: "Describe Lyon as JSON." }],
      output_config: { format: zodOutputFormat(City) },
    });
    expect(m.stop_reason).toBe("end_turn");
    expect(City.safeParse(m.parsed_output).success).toBe(true);
  });

  it("with adaptive thinking: a thinking block first, then the JSON answer (streamed: the same blocks)", async () => {
    const body = {
      model: SIM_MODEL,
      max_tokens: 1500,
      thinking: { type: "adaptive" as const },
      messages: [{ role: "user" as const, content: "Describe Lyon as JSON." }],
      output_config: { format: { type: "json_schema" as const, schema: z.toJSONSchema(City) as Record<string, unknown> } },
    };
    const m = await client.messages.create(body);
    expect(m.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(City.safeParse(JSON.parse((m.content[1] as Anthropic.TextBlock).text)).success).toBe(true);
    const s = await streamed(client, body);
    expect(s.content).toEqual(m.content);
  });
});
