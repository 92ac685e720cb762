// The Messages translators on hand-made internal events (no stack): the
// streamed and the non-streamed translator build the same blocks from the
// same events however the pool coalesced them; stop reasons, usage, errors
// and the rate-limit header mapping.
import { describe, expect, it } from "vitest";
import type { ChoiceDelta, Usage } from "../../contract/queue/messages.js";
import { AnthropicJson } from "../../edge/anthropic/json.js";
import { AnthropicStream } from "../../edge/anthropic/stream.js";
import { anthropicError } from "../../edge/anthropic/errors.js";
import { anthropicRateLimitHeaders, parseReset } from "../../edge/anthropic/headers.js";
import type { RequestMeta } from "../../edge/queue.js";
import { expectEventOrder, type StreamEvent } from "./helpers.js";

const META: RequestMeta = { tenant_id: "t", model: "m", kind: "messages", stream: true, include_usage: false, n: 1, logprobs: false, created: 0, deadline_at: 0 };
const USAGE: Usage = { prompt_tokens: 50, completion_tokens: 20, cached_tokens: 16 };
const d = (over: Partial<ChoiceDelta>): ChoiceDelta => ({ index: 0, text: "", token_ids: [], finish_reason: null, ...over });

/** Runs deltas through the stream translator and replays its events the way the SDK accumulates them. */
function viaStream(deltas: ChoiceDelta[]) {
  const tr = new AnthropicStream("msg_1", META);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a replay of untyped wire JSON
  const events = [...tr.open(), ...deltas.flatMap((ch, i) => tr.chunk({ type: "chunk", choices: [ch] }, `${i}-0`)), ...tr.done(USAGE, "9-0")].map((e) => JSON.parse(e.data) as any);
  expectEventOrder(events as StreamEvent[]);
  const msg = events[0]!.message;
  const json: Record<number, string> = {};
  for (const e of events) {
    if (e.type === "content_block_start") msg.content[e.index!] = { ...e.content_block };
    if (e.type === "content_block_delta") {
      const b = msg.content[e.index!];
      if (e.delta.type === "text_delta") b.text += e.delta.text;
      if (e.delta.type === "thinking_delta") b.thinking += e.delta.thinking;
      if (e.delta.type === "signature_delta") b.signature = e.delta.signature;
      if (e.delta.type === "input_json_delta") json[e.index!] = (json[e.index!] ?? "") + e.delta.partial_json;
    }
    if (e.type === "content_block_stop" && json[e.index!] !== undefined) msg.content[e.index!].input = JSON.parse(json[e.index!]!);
    if (e.type === "message_delta") Object.assign(msg, e.delta, { usage: e.usage });
  }
  return msg;
}

function viaJson(deltas: ChoiceDelta[]) {
  const tr = new AnthropicJson("msg_1", META);
  for (const ch of deltas) tr.add({ type: "chunk", choices: [ch] });
  return tr.build(USAGE) as Record<string, any>;
}

const AGENT_TURN: ChoiceDelta[] = [
  d({ reasoning: "Let me " }),
  d({ reasoning: "think.", text: "I will " }),
  d({ text: "check.", tool_calls: [{ index: 0, id: "call_a", name: "f", arguments: '{"x":' }] }),
  d({ tool_calls: [{ index: 0, arguments: "1}" }, { index: 1, id: "call_b", name: "g", arguments: "{}" }] }),
  d({ finish_reason: "tool_calls" }),
];

describe("content blocks", () => {
  it("an agent turn (thinking, text, two calls) gives the same blocks streamed and not", () => {
    const expected = [
      { type: "thinking", thinking: "Let me think.", signature: "speedgate-unsigned" },
      { type: "text", text: "I will check.", citations: null },
      { type: "tool_use", id: "call_a", name: "f", input: { x: 1 } },
      { type: "tool_use", id: "call_b", name: "g", input: {} },
    ];
    const json = viaJson(AGENT_TURN);
    expect(json.content).toEqual(expected);
    expect(json).toMatchObject({ id: "msg_1", type: "message", role: "assistant", model: "m", stop_reason: "tool_use", stop_sequence: null });
    expect(json.usage).toEqual({ input_tokens: 34, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 16 });
    const streamed = viaStream(AGENT_TURN);
    expect(streamed.content).toEqual(expected);
    expect(streamed.stop_reason).toBe("tool_use");
    expect(streamed.usage).toEqual(json.usage);
    // However the pool coalesced the deltas: one chunk with everything gives the same blocks.
    const merged = d({ reasoning: "Let me think.", text: "I will check.", tool_calls: AGENT_TURN.flatMap((x) => x.tool_calls ?? []), finish_reason: "tool_calls" });
    expect(viaJson([merged]).content).toEqual(expected);
    expect(viaStream([merged]).content).toEqual(expected);
  });

  it("stop reasons: end_turn, max_tokens, stop_sequence with the sequence", () => {
    expect(viaJson([d({ text: "a", finish_reason: "stop" })])).toMatchObject({ stop_reason: "end_turn", stop_sequence: null });
    expect(viaJson([d({ text: "a", finish_reason: "length" })])).toMatchObject({ stop_reason: "max_tokens", stop_sequence: null });
    expect(viaJson([d({ text: "a" }), d({ finish_reason: "stop", stop_sequence: "END" })])).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" });
    expect(viaStream([d({ text: "a" }), d({ finish_reason: "stop", stop_sequence: "END" })])).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "END" });
    // No output at all: an empty content list, still a well-formed stream.
    expect(viaJson([d({ finish_reason: "length" })]).content).toEqual([]);
    expect(viaStream([d({ finish_reason: "length" })]).content).toEqual([]);
  });

  it("an error mid-stream is an `error` event in Anthropic's shape; pings keep the stream alive", () => {
    const tr = new AnthropicStream("msg_1", META);
    const [ev] = tr.error({ status: 503, type: "server_error", code: "worker_unavailable", message: "retry" }, "5-0");
    expect(ev).toEqual({ event: "error", id: "5-0", data: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "retry" } }) });
    expect(tr.keepalive(null)).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });
});

describe("Anthropic statuses and headers", () => {
  it("maps our statuses to Anthropic's error types (503 becomes 529 overloaded_error)", () => {
    expect([400, 401, 403, 404, 405, 413, 429, 499, 500, 502, 503, 504].map((s) => anthropicError(s))).toEqual([
      { status: 400, type: "invalid_request_error" },
      { status: 401, type: "authentication_error" },
      { status: 403, type: "permission_error" },
      { status: 404, type: "not_found_error" },
      { status: 405, type: "invalid_request_error" },
      { status: 413, type: "request_too_large" },
      { status: 429, type: "rate_limit_error" },
      { status: 499, type: "invalid_request_error" },
      { status: 500, type: "api_error" },
      { status: 502, type: "api_error" },
      { status: 529, type: "overloaded_error" },
      { status: 504, type: "timeout_error" },
    ]);
  });

  it("derives anthropic-ratelimit-* from x-ratelimit-* (reset as an RFC 3339 time)", () => {
    expect([parseReset("20ms"), parseReset("7s"), parseReset("6m0s"), parseReset("1m5s"), parseReset(""), parseReset("soon")]).toEqual([20, 7000, 360_000, 65_000, null, null]);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    const h = anthropicRateLimitHeaders(
      { "x-ratelimit-limit-requests": "60", "x-ratelimit-remaining-requests": "59", "x-ratelimit-reset-requests": "1s", "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "900", "x-ratelimit-reset-tokens": "6m0s" },
      now,
    );
    expect(h).toEqual({
      "anthropic-ratelimit-requests-limit": "60",
      "anthropic-ratelimit-requests-remaining": "59",
      "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:01Z",
      "anthropic-ratelimit-tokens-limit": "1000",
      "anthropic-ratelimit-tokens-remaining": "900",
      "anthropic-ratelimit-tokens-reset": "2026-01-01T00:06:00Z",
    });
    expect(anthropicRateLimitHeaders({}, now)).toEqual({});
  });
});
