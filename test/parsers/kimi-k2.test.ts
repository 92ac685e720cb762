import { describe, expect, it } from "vitest";
import { toolParserFor } from "../../pool/run/parsers/index.js";
import { nameOfId } from "../../pool/run/parsers/tool-calls/kimi-k2.js";
import { ids, parseAllWays } from "./helpers.js";

const TOOLS = ["get_weather", "get_time"];
const setup = { format: "kimi_k2" as const, tools: TOOLS };
const call = (id: string, args: string) => `<|tool_call_begin|>${id}<|tool_call_argument_begin|>${args}<|tool_call_end|>`;
const section = (...calls: string[]) => `<|tool_calls_section_begin|>${calls.join("")}<|tool_calls_section_end|>`;
const kimi = () => toolParserFor("kimi_k2")!({ idFor: ids, toolNames: new Set(TOOLS), parallel: true });

describe("Kimi K2 tool calls", () => {
  it("takes the name from the function id", () => {
    expect(nameOfId("functions.get_weather:0")).toBe("get_weather");
    expect(nameOfId(" get_weather:12 ")).toBe("get_weather");
    expect(nameOfId("functions.get_weather")).toBe("get_weather");
    expect(nameOfId("functions.get weather:0")).toBeUndefined();
  });

  it("parses a section of calls, text before it as content", () => {
    const text = `I'll look.\n${section(call("functions.get_weather:0", '{"city": "Paris"}'), call("functions.get_time:1", ' {"tz": "CET"} '))}`;
    const r = parseAllWays(setup, text, 5);
    expect(r.content).toBe("I'll look.");
    expect(r.calls).toEqual([
      { id: "call_0", name: "get_weather", arguments: '{"city": "Paris"}' },
      { id: "call_1", name: "get_time", arguments: '{"tz": "CET"}' },
    ]);
    expect(r.callCount).toBe(2);
  });

  it("tolerates a name without the functions. prefix, the singular section marker and a missing call end", () => {
    const text = '<|tool_call_section_begin|><|tool_call_begin|>get_time:0<|tool_call_argument_begin|>{}<|tool_call_section_end|>after';
    const r = parseAllWays(setup, text);
    expect(r.calls).toEqual([{ id: "call_0", name: "get_time", arguments: "{}" }]);
    expect(r.content).toBe("after");
  });

  it("gives {} to a call without arguments", () => {
    const r = parseAllWays(setup, section("<|tool_call_begin|>functions.get_time:0<|tool_call_end|>"));
    expect(r.calls).toEqual([{ id: "call_0", name: "get_time", arguments: "{}" }]);
  });

  it("streams argument pieces, holding only what may be the call's end", () => {
    const p = kimi();
    expect(p.push("<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argu")).toEqual({ content: "", calls: [] });
    expect(p.push('ment_begin|>{"city"')).toEqual({
      content: "",
      calls: [
        { index: 0, id: "call_0", name: "get_weather" },
        { index: 0, arguments: '{"city"' },
      ],
    });
    expect(p.push(': "Paris"}<|tool_call')).toEqual({ content: "", calls: [{ index: 0, arguments: ': "Paris"}' }] });
    expect(p.push("_end|><|tool_calls_section_end|>")).toEqual({ content: "", calls: [] });
    expect(p.callCount).toBe(1);
  });

  it("holds a partial marker back and releases it when it is not one", () => {
    const p = kimi();
    expect(p.push("a <|tool_ca")).toEqual({ content: "a", calls: [] });
    expect(p.push("t|> b")).toEqual({ content: " <|tool_cat|> b", calls: [] });
  });

  it("sends a call to an unknown tool to content as its raw markup", () => {
    const unknown = call("functions.launch:0", '{"target": "moon"}');
    const r = parseAllWays(setup, section(unknown, call("functions.get_time:1", "{}")));
    expect(r.content).toBe(unknown);
    expect(r.calls).toEqual([{ id: "call_0", name: "get_time", arguments: "{}" }]);
  });

  it("emits only the first call when parallel calls are off", () => {
    const text = section(call("functions.get_time:0", "{}"), call("functions.get_weather:1", '{"city": "Oslo"}'));
    const r = parseAllWays({ ...setup, parallel: false }, text);
    expect(r.calls).toEqual([{ id: "call_0", name: "get_time", arguments: "{}" }]);
    expect(r.content).toBe("");
  });

  it("at flush keeps a streamed call and releases one whose id was cut", () => {
    const cut = parseAllWays(setup, '<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Pa');
    expect(cut.calls).toEqual([{ id: "call_0", name: "get_weather", arguments: '{"city": "Pa' }]);
    expect(cut.content).toBe("");
    const raw = "<|tool_call_begin|>functions.get_wea";
    const early = parseAllWays(setup, `<|tool_calls_section_begin|>${raw}`);
    expect(early.calls).toEqual([]);
    expect(early.content).toBe(raw);
  });
});
