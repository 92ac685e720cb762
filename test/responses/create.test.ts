// POST /v1/responses through the official openai client, end to end (edge ->
// Redis -> pool -> simulated worker): string and item-list input, streaming
// with the semantic events, usage, rate-limit headers, max_output_tokens,
// structured output and reasoning items.
import { Ajv } from "ajv";
import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkEventOrder, parseSse, RATE_LIMITS, responsesStack, streamed, SIM_MODEL, textOf, type Env } from "./helpers.js";

const KEY = "sk-responses-create-01";
let env: Env;
beforeAll(async () => {
  env = await responsesStack(KEY);
});
afterAll(async () => {
  await env?.stack.stop();
});

describe("responses.create", () => {
  it("answers a string input with one message item and usage", async () => {
    const { data: r, response } = await env.client.responses
      .create({ model: SIM_MODEL, input: "Say hello.", max_output_tokens: 24, metadata: { run: "a" }, instructions: "Be brief." })
      .withResponse();
    expect(r.id).toMatch(/^resp_/);
    expect(response.headers.get("x-request-id")).toBe(r.id);
    expect(r.object).toBe("response");
    expect(["completed", "incomplete"]).toContain(r.status);
    expect(r.model).toBe(SIM_MODEL);
    expect(r.metadata).toEqual({ run: "a" });
    expect(r.instructions).toBe("Be brief.");
    expect(r.output).toHaveLength(1);
    const msg = r.output[0]!;
    expect(msg.type).toBe("message");
    if (msg.type !== "message") return;
    expect(msg.role).toBe("assistant");
    expect(msg.content[0]!.type).toBe("output_text");
    expect(r.output_text.length).toBeGreaterThan(0);
    expect(r.usage!.input_tokens).toBeGreaterThan(0);
    expect(r.usage!.output_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
    expect(r.usage!.output_tokens_details.reasoning_tokens).toBe(0);
  });

  it("takes a list of items (system, developer, user and assistant messages with text parts)", async () => {
    const r = await env.client.responses.create({
      model: SIM_MODEL,
      max_output_tokens: 16,
      input: [
        { role: "developer", content: "Answer in one line." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello!", annotations: [] }], id: "msg_prev", status: "completed" },
        { role: "user", content: "And again?" },
      ],
    });
    expect(r.output_text.length).toBeGreaterThan(0);
    expect(r.usage!.input_tokens).toBeGreaterThan(10);
  });

  it("carries x-ratelimit headers", async () => {
    const { response } = await env.client.responses.create({ model: SIM_MODEL, input: "hi", max_output_tokens: 4 }).withResponse();
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe(String(RATE_LIMITS.requests_per_minute));
    expect(Number(response.headers.get("x-ratelimit-remaining-tokens"))).toBeLessThan(RATE_LIMITS.tokens_per_minute);
  });

  it("max_output_tokens that cuts the answer makes it incomplete", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Tell me a long story about the sea.", max_output_tokens: 3 });
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(r.usage!.output_tokens).toBe(3);
  });
});

describe("responses.stream", () => {
  it("streams the semantic events and finalResponse equals the non-streamed shape", async () => {
    const { events, final } = await streamed(env.client, { model: SIM_MODEL, input: "Write a short poem.", max_output_tokens: 40 });
    const deltas = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta as string);
    expect(deltas.length).toBeGreaterThan(1);
    expect(textOf(final)).toBe(deltas.join(""));
    const completed = events[events.length - 1]!;
    expect(["response.completed", "response.incomplete"]).toContain(completed.type);
    const usage = (completed.response as OpenAI.Responses.Response).usage!;
    expect(usage.output_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    expect(final.id).toMatch(/^resp_/);
  });

  it("create({stream: true}) ends with response.incomplete when max_output_tokens cuts it", async () => {
    const stream = await env.client.responses.create({ model: SIM_MODEL, input: "A long story, please.", max_output_tokens: 3, stream: true });
    const events: Parameters<typeof checkEventOrder>[0][number][] = [];
    for await (const e of stream) events.push(e as never);
    checkEventOrder(events);
    const last = events[events.length - 1]!;
    expect(last.type).toBe("response.incomplete");
    expect((last.response as OpenAI.Responses.Response).incomplete_details).toEqual({ reason: "max_output_tokens" });
    const item = events.find((e) => e.type === "response.output_item.done")!.item as { status: string };
    expect(item.status).toBe("incomplete");
  });

  it("raw SSE names each event and carries rate-limit headers", async () => {
    const res = await fetch(`${env.stack.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, input: "hi", max_output_tokens: 8, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe(String(RATE_LIMITS.requests_per_minute));
    const events = parseSse(await res.text());
    checkEventOrder(events);
  });
});

describe("structured output and reasoning", () => {
  const SCHEMA = {
    type: "object",
    properties: { city: { type: "string" }, population: { type: "integer" } },
    required: ["city", "population"],
    additionalProperties: false,
  };

  it("text.format json_schema: the output parses and validates", async () => {
    const r = await env.client.responses.create({
      model: SIM_MODEL,
      input: "Give me a city and its population.",
      max_output_tokens: 200,
      text: { format: { type: "json_schema", name: "city", schema: SCHEMA, strict: true } },
    });
    expect(r.status).toBe("completed");
    expect(r.text?.format?.type).toBe("json_schema");
    const value: unknown = JSON.parse(r.output_text);
    expect(new Ajv({ strict: false }).validate(SCHEMA, value)).toBe(true);
  });

  it("text.format json_schema, streamed with thinking: reasoning item first, then JSON", async () => {
    const { final } = await streamed(env.client, {
      model: SIM_MODEL,
      input: "A city, as JSON.",
      max_output_tokens: 400,
      reasoning: { effort: "high" },
      text: { format: { type: "json_schema", name: "city", schema: SCHEMA } },
    });
    expect(final.output[0]!.type).toBe("reasoning");
    expect(new Ajv({ strict: false }).validate(SCHEMA, JSON.parse(textOf(final)))).toBe(true);
  });

  it("text.format json_object gives a JSON object", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "JSON please.", max_output_tokens: 200, text: { format: { type: "json_object" } } });
    const v: unknown = JSON.parse(r.output_text);
    expect(typeof v === "object" && v !== null && !Array.isArray(v)).toBe(true);
  });

  it("reasoning.effort high gives a reasoning item with reasoning text, counted as reasoning tokens", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Why is the sky blue?", max_output_tokens: 300, reasoning: { effort: "high" } });
    const rs = r.output.find((o) => o.type === "reasoning");
    expect(rs).toBeDefined();
    if (rs?.type !== "reasoning") return;
    expect(rs.id).toMatch(/^rs_/);
    expect(rs.content?.[0]?.type).toBe("reasoning_text");
    expect(rs.content![0]!.text.length).toBeGreaterThan(0);
    expect(rs.content![0]!.text).not.toMatch(/<\/?think>/);
    expect(r.output.indexOf(rs)).toBe(0);
    expect(r.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(r.usage!.output_tokens_details.reasoning_tokens).toBeLessThan(r.usage!.output_tokens);
    expect(r.reasoning?.effort).toBe("high");
  });

  it("streams reasoning_text deltas inside the reasoning item", async () => {
    const { events, final } = await streamed(env.client, { model: SIM_MODEL, input: "Think, then answer: 2+2?", max_output_tokens: 300, reasoning: { effort: "medium" } });
    const rdeltas = events.filter((e) => e.type === "response.reasoning_text.delta");
    expect(rdeltas.length).toBeGreaterThan(0);
    const rs = final.output[0]!;
    expect(rs.type).toBe("reasoning");
    if (rs.type === "reasoning") expect(rs.content![0]!.text).toBe(rdeltas.map((e) => e.delta).join(""));
  });

  it("reasoning.effort none keeps thinking off: no reasoning item", async () => {
    const r = await env.client.responses.create({ model: SIM_MODEL, input: "Why is the sky blue?", max_output_tokens: 60, reasoning: { effort: "none" } });
    expect(r.output.some((o) => o.type === "reasoning")).toBe(false);
  });
});
