// The Anthropic Messages API through the official @anthropic-ai/sdk client,
// end to end (edge -> Redis -> pool -> simulated worker): create, stream with
// finalMessage(), stop sequences, max_tokens, count_tokens, x-api-key auth.
// Every streamed test checks the event-order invariants (expectEventOrder).
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FullStack } from "../helpers/full-stack.js";
import { anthropicClient, expectEventOrder, messagesStack, parseSse, post, SIM_MODEL, type StreamEvent } from "./helpers.js";

const KEY = "sk-messages-basic-0001";
let stack: FullStack;
let client: Anthropic;

beforeAll(async () => {
  ({ stack, client } = await messagesStack(KEY));
});
afterAll(async () => {
  await stack?.stop();
});

const USER = [{ role: "user" as const, content: "Tell me about Zürich and Köln." }];

function textOf(m: Anthropic.Message): string {
  return m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
}

describe("messages.create", () => {
  it("answers a Message object with text, end_turn or max_tokens, usage and a msg_ id", async () => {
    const m = await client.messages.create({ model: SIM_MODEL, max_tokens: 40, system: "Be brief.", messages: USER });
    expect(m.id).toMatch(/^msg_[0-9a-f]+$/);
    expect(m._request_id).toBe(m.id);
    expect(m).toMatchObject({ type: "message", role: "assistant", model: SIM_MODEL, stop_sequence: null });
    expect(m.content).toHaveLength(1);
    expect(m.content[0]!.type).toBe("text");
    expect(textOf(m).length).toBeGreaterThan(0);
    expect(["end_turn", "max_tokens"]).toContain(m.stop_reason);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    expect(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0)).toBeGreaterThan(0);
  });

  it("max_tokens ends the message with stop_reason max_tokens and exactly that many output tokens", async () => {
    const m = await client.messages.create({ model: SIM_MODEL, max_tokens: 7, messages: USER });
    expect(m.stop_reason).toBe("max_tokens");
    expect(m.usage.output_tokens).toBe(7);
  });

  it("stop_sequences: stop_reason stop_sequence names the sequence that matched; the text ends before it", async () => {
    const body = { model: SIM_MODEL, max_tokens: 120, messages: [{ role: "user" as const, content: "In 2024 we measured" }] };
    const full = textOf(await client.messages.create(body));
    let stop = "";
    for (let at = Math.floor(full.length / 2); at < full.length - 3; at++) {
      const s = full.slice(at, at + 3);
      if (full.indexOf(s) === at && !/[\uFFFD\uD800-\uDFFF\s]/.test(s)) {
        stop = s;
        break;
      }
    }
    expect(stop).not.toBe("");
    const m = await client.messages.create({ ...body, stop_sequences: ["zzz-never", stop] });
    expect(m.stop_reason).toBe("stop_sequence");
    expect(m.stop_sequence).toBe(stop);
    expect(textOf(m)).toBe(full.slice(0, full.indexOf(stop)));

    // Streamed: the same answer, the sequence in message_delta.
    const events: StreamEvent[] = [];
    const s = client.messages.stream({ ...body, stop_sequences: [stop] });
    s.on("streamEvent", (e) => events.push(e));
    const fm = await s.finalMessage();
    expectEventOrder(events);
    expect(fm.stop_reason).toBe("stop_sequence");
    expect(fm.stop_sequence).toBe(stop);
    expect(textOf(fm)).toBe(textOf(m));
  });
});

describe("conversation shapes", () => {
  it("system text blocks, multi-block user turns and a mid-conversation system message all render", async () => {
    const m = await client.messages.create({
      model: SIM_MODEL,
      max_tokens: 6,
      system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }, { type: "text", text: "Answer in English." }],
      messages: [
        { role: "user", content: [{ type: "text", text: "First part." }, { type: "text", text: "Second part." }] },
        { role: "assistant", content: [{ type: "text", text: "Noted." }] },
        { role: "system", content: "From now on, be even shorter." } as never,
        { role: "user", content: "Go." },
      ],
    });
    expect(m.content[0]!.type).toBe("text");
    // Every block reaches the prompt: the same conversation without the extra blocks counts fewer tokens.
    const base = { model: SIM_MODEL, messages: [{ role: "user" as const, content: "First part." }] };
    const withMore = { ...base, messages: [{ role: "user" as const, content: [{ type: "text" as const, text: "First part." }, { type: "text" as const, text: "Second part." }] }] };
    expect((await client.messages.countTokens(withMore)).input_tokens).toBeGreaterThan((await client.messages.countTokens(base)).input_tokens);
  });
});

describe("messages.stream", () => {
  it("finalMessage() equals the non-streamed answer; usage arrives in message_delta", async () => {
    const body = { model: SIM_MODEL, max_tokens: 30, messages: USER };
    const plain = await client.messages.create(body);
    const events: StreamEvent[] = [];
    let text = "";
    const s = client.messages.stream(body);
    s.on("streamEvent", (e) => events.push(e));
    s.on("text", (t) => (text += t));
    const fm = await s.finalMessage();
    expectEventOrder(events);
    expect(fm.id).toMatch(/^msg_/);
    expect(fm.content).toEqual(plain.content);
    expect(text).toBe(textOf(plain));
    expect(fm.stop_reason).toBe(plain.stop_reason);
    expect(fm.usage.output_tokens).toBe(plain.usage.output_tokens);
    expect(fm.usage.input_tokens + (fm.usage.cache_read_input_tokens ?? 0)).toBe(plain.usage.input_tokens + (plain.usage.cache_read_input_tokens ?? 0));
  });

  it("names every SSE event after its data's type and carries the rate-limit and request-id headers (raw HTTP)", async () => {
    const res = await post(`${stack.url}/v1/messages`, KEY, { model: SIM_MODEL, max_tokens: 12, stream: true, messages: USER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-request-id")).toMatch(/^msg_/);
    const events = parseSse(await res.text());
    expectEventOrder(events.map((e) => JSON.parse(e.data) as StreamEvent));
    const start = JSON.parse(events[0]!.data) as { message: { id: string } };
    expect(start.message.id).toBe(res.headers.get("x-request-id"));
  });
});

describe("count_tokens", () => {
  it("countTokens equals the whole prompt the same request is charged for (input + cache reads)", async () => {
    const body = {
      model: SIM_MODEL,
      system: [{ type: "text" as const, text: "You are terse." }],
      messages: [
        { role: "user" as const, content: [{ type: "text" as const, text: "Count these words, 東京 🚀." }] },
        { role: "assistant" as const, content: "Sure." },
        { role: "user" as const, content: "Go on." },
      ],
      tools: [{ name: "get_time", description: "Current time", input_schema: { type: "object" as const, properties: { tz: { type: "string" } } } }],
    };
    const counted = await client.messages.countTokens(body);
    const m = await client.messages.create({ ...body, max_tokens: 5 });
    expect(counted.input_tokens).toBeGreaterThan(20);
    expect(counted.input_tokens).toBe(m.usage.input_tokens + (m.usage.cache_read_input_tokens ?? 0));
    // A long prompt (rendered on the pool's tokenization threads) counts the same way.
    const long = { model: SIM_MODEL, messages: [{ role: "user" as const, content: "Zürich und Köln 東京 🚀. ".repeat(400) }] };
    const longCount = await client.messages.countTokens(long);
    const longMsg = await client.messages.create({ ...long, max_tokens: 2 });
    expect(longCount.input_tokens).toBeGreaterThan(2000);
    expect(longCount.input_tokens).toBe(longMsg.usage.input_tokens + (longMsg.usage.cache_read_input_tokens ?? 0));
    // Tools are part of the rendered prompt.
    const bare = await client.messages.countTokens({ model: SIM_MODEL, system: body.system, messages: body.messages });
    expect(bare.input_tokens).toBeLessThan(counted.input_tokens);
  });

  it("refuses what Messages refuses (same validation), in Anthropic's error shape", async () => {
    const res = await post(`${stack.url}/v1/messages/count_tokens`, KEY, {
      model: SIM_MODEL,
      messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "AA==" } }] }],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("image") } });
  });
});

describe("authentication", () => {
  it("accepts the key as x-api-key (the SDK's way) and as Authorization: Bearer", async () => {
    const bearer = await fetch(`${stack.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: SIM_MODEL, max_tokens: 3, messages: USER }),
    });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { type: string }).type).toBe("message");
    const viaSdk = await client.messages.create({ model: SIM_MODEL, max_tokens: 3, messages: USER });
    expect(viaSdk.type).toBe("message");
  });

  it("a bad key is the SDK's AuthenticationError (401 authentication_error)", async () => {
    const bad = anthropicClient(stack.url, "sk-not-a-key");
    const err = await bad.messages.create({ model: SIM_MODEL, max_tokens: 3, messages: USER }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).requestID).toMatch(/^msg_/);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const none = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: "{}" });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ type: "error", error: { type: "authentication_error", message: expect.stringContaining("x-api-key") } });
    const two = await post(`${stack.url}/v1/messages`, KEY, { model: SIM_MODEL, max_tokens: 3, messages: USER }, { authorization: "Bearer sk-other" });
    expect(two.status).toBe(401);
  });
});
