import { describe, expect, it } from "vitest";
import { OutputParser, reasoningParserFor, toolParserFor } from "../../pool/run/parsers/index.js";
import { outputParserFor } from "../../pool/run/parsing.js";
import type { Job } from "../../contract/queue/messages.js";
import { collect, ids, makeParser, parseAllWays, rng } from "./helpers.js";

const TOOLS = ["get_weather", "get_time"];

describe("OutputParser: reasoning then tool calls", () => {
  it("Qwen3: a think block, text and calls, with the block opened by the prompt", () => {
    const text =
      '\nThe user wants weather. <tool_call> is the way.\n</think>\n\nChecking.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';
    const r = parseAllWays({ format: "qwen3", tools: TOOLS, startsInReasoning: true }, text);
    // markup inside the reasoning is reasoning, not a call
    expect(r.reasoning).toBe("The user wants weather. <tool_call> is the way.");
    expect(r.content).toBe("Checking.");
    expect(r.calls).toEqual([{ id: "call_0", name: "get_weather", arguments: '{"city": "Paris"}' }]);
  });

  it("Kimi K2: a think block then a section of calls", () => {
    const text =
      "<think>Need time and weather.</think>" +
      "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_time:0<|tool_call_argument_begin|>{}<|tool_call_end|>" +
      '<|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>{"city": "Tokyo"}<|tool_call_end|><|tool_calls_section_end|>';
    const r = parseAllWays({ format: "kimi_k2", tools: TOOLS, startsInReasoning: false }, text, 11);
    expect(r.reasoning).toBe("Need time and weather.");
    expect(r.content).toBe("");
    expect(r.calls.map((c) => [c.id, c.name, c.arguments])).toEqual([
      ["call_0", "get_time", "{}"],
      ["call_1", "get_weather", '{"city": "Tokyo"}'],
    ]);
    expect(r.callCount).toBe(2);
  });

  it("never lets tags into content, whatever the split", () => {
    const text = "<think>\nhmm\n</think>\n\nA<tool_call>{\"name\": \"get_time\"}</tool_call>B";
    const r = parseAllWays({ format: "qwen3", tools: TOOLS, startsInReasoning: false }, text, 99, 60);
    expect(r.content).toBe("AB");
    expect(r.content + r.reasoning).not.toMatch(/<\/?(think|tool_call)>/);
  });

  it("works with only one of the two parts", () => {
    const reasoningOnly = new OutputParser({ reasoning: reasoningParserFor("qwen3")!({ startsInReasoning: false }) });
    expect(collect(reasoningOnly, ["<think>a</think>b<tool_call>"])).toMatchObject({ reasoning: "a", content: "b<tool_call>", callCount: 0 });
    const toolsOnly = new OutputParser({ tools: toolParserFor("qwen3")!({ idFor: ids, toolNames: new Set(TOOLS), parallel: true }) });
    expect(collect(toolsOnly, ['<think>a</think><tool_call>{"name": "get_time"}</tool_call>'])).toMatchObject({
      reasoning: "",
      content: "<think>a</think>",
      callCount: 1,
    });
  });

  it("reports inReasoning from the reasoning parser", () => {
    const p = makeParser({ format: "qwen3", tools: TOOLS, startsInReasoning: true });
    expect(p.inReasoning).toBe(true);
    p.push("x</think>\n\n");
    p.push("y");
    expect(p.inReasoning).toBe(false);
  });

  it("toolParserFor knows the two formats only", () => {
    expect(toolParserFor("qwen3")).toBeTypeOf("function");
    expect(toolParserFor("kimi_k2")).toBeTypeOf("function");
    expect(toolParserFor("llama")).toBeUndefined();
    expect(toolParserFor("constructor")).toBeUndefined();
  });

  it("agrees with the whole-string parse on generated outputs in random splits", () => {
    const next = rng(2024);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const pieces = {
      qwen3: ['<tool_call>\n{"name": "get_time", "arguments": {"a": "<x> }"}}\n</tool_call>', "<tool_call>\n{\"name\": \"nope\"}\n</tool_call>", "</tool_call>", "<tool_"],
      kimi_k2: [
        "<|tool_calls_section_begin|>",
        '<|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"c": "<|x|>"}<|tool_call_end|>',
        "<|tool_call_begin|>functions.nope:1<|tool_call_argument_begin|>{}<|tool_call_end|>",
        "<|tool_calls_section_end|>",
        "<|tool",
      ],
    } as const;
    const common = ["hello", " ", "\n\n", "<", "</think>", "<think>", "a < b", "{\"k\": 1}"];
    for (let n = 0; n < 40; n++) {
      const format = n % 2 ? "qwen3" : "kimi_k2";
      const parts = Array.from({ length: 3 + Math.floor(next() * 8) }, () => (next() < 0.5 ? pick(pieces[format]) : pick(common)));
      const setup = { format, tools: TOOLS, parallel: next() < 0.7, startsInReasoning: next() < 0.5 ? undefined : next() < 0.5 } as const;
      const r = parseAllWays(setup, parts.join(""), n, 10);
      // Nothing is lost except markup, layout whitespace and dropped calls: every emitted name is a known tool.
      for (const c of r.calls) expect(TOOLS).toContain(c.name);
      expect(r.callCount).toBe(r.calls.length);
    }
  });
});

describe("outputParserFor (parsing.ts)", () => {
  const job = (tools: boolean, parallel?: boolean) =>
    ({
      kind: "chat",
      tools: tools ? TOOLS.map((name) => ({ type: "function", function: { name } })) : undefined,
      parallel_tool_calls: parallel,
    }) as unknown as Job;

  it("builds reasoning and tool parsers with derived call ids", () => {
    const p = outputParserFor(job(true), "qwen3", "rid1", 0, "<|im_start|>assistant\n<think>\n")!;
    const r = collect(p, ['a</think>\n\n<tool_call>{"name": "get_time"}</tool_call>']);
    expect(r.reasoning).toBe("a");
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]!.id).toMatch(/^call_[A-Za-z0-9_-]{24}$/);
    const again = collect(outputParserFor(job(true), "qwen3", "rid1", 0, "<think>")!, ['a</think><tool_call>{"name": "get_time"}</tool_call>']);
    expect(again.calls[0]!.id).toBe(r.calls[0]!.id);
  });

  it("has no parser for a family without one, and no tool parser without tools", () => {
    expect(outputParserFor(job(true), "llama", "r", 0, "")).toBeUndefined();
    const p = outputParserFor(job(false), "kimi_k2", "r", 0, "")!;
    expect(collect(p, ["<|tool_call_begin|>x"]).content).toBe("<|tool_call_begin|>x");
  });
});
