import { describe, expect, it } from "vitest";
import { toolParserFor } from "../../pool/run/parsers/index.js";
import { collect, ids, parseAllWays } from "./helpers.js";

const TOOLS = ["get_weather", "get_time"];
const setup = { format: "qwen3" as const, tools: TOOLS };
const call = (name: string, args: string) => `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;
const qwen = (parallel = true) => toolParserFor("qwen3")!({ idFor: ids, toolNames: new Set(TOOLS), parallel });

describe("Qwen3 tool calls", () => {
  it("parses one call with its arguments' JSON text exactly", () => {
    const r = parseAllWays(setup, call("get_weather", '{"city": "Paris", "days": [1, 2], "q": "a \\"}\\" b"}'));
    expect(r.calls).toEqual([{ id: "call_0", name: "get_weather", arguments: '{"city": "Paris", "days": [1, 2], "q": "a \\"}\\" b"}' }]);
    expect(JSON.parse(r.calls[0]!.arguments)).toEqual({ city: "Paris", days: [1, 2], q: 'a "}" b' });
    expect(r.content).toBe("");
    expect(r.callCount).toBe(1);
  });

  it("parses several calls with ids and indexes in order, text before them as content", () => {
    const text = `Let me check both.\n\n${call("get_weather", '{"city": "Paris"}')}\n${call("get_time", '{"tz": "CET"}')}`;
    const r = parseAllWays(setup, text, 3);
    expect(r.content).toBe("Let me check both.");
    expect(r.calls).toEqual([
      { id: "call_0", name: "get_weather", arguments: '{"city": "Paris"}' },
      { id: "call_1", name: "get_time", arguments: '{"tz": "CET"}' },
    ]);
    expect(r.callCount).toBe(2);
  });

  it("gives {} when arguments are missing, and accepts parameters and name-last", () => {
    const text =
      '<tool_call>\n{"name": "get_time"}\n</tool_call><tool_call>{"parameters": {"a": 1}, "name": "get_weather"}</tool_call>';
    const r = parseAllWays(setup, text);
    expect(r.calls.map((c) => c.arguments)).toEqual(["{}", '{"a": 1}']);
    expect(r.calls.map((c) => c.name)).toEqual(["get_time", "get_weather"]);
  });

  it("decodes arguments written as a JSON string", () => {
    const r = parseAllWays(setup, '<tool_call>{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}</tool_call>');
    expect(r.calls[0]!.arguments).toBe('{"city": "Oslo"}');
  });

  it("streams argument pieces as they arrive", () => {
    const p = qwen();
    expect(p.push('<tool_call>\n{"name": "get_weather", "arguments": {"ci')).toEqual({
      content: "",
      calls: [
        { index: 0, id: "call_0", name: "get_weather" },
        { index: 0, arguments: '{"ci' },
      ],
    });
    expect(p.push('ty": "Par')).toEqual({ content: "", calls: [{ index: 0, arguments: 'ty": "Par' }] });
    expect(p.push('is"}}\n</tool_')).toEqual({ content: "", calls: [{ index: 0, arguments: 'is"}' }] });
    expect(p.callCount).toBe(0);
    expect(p.push("call>")).toEqual({ content: "", calls: [] });
    expect(p.callCount).toBe(1);
  });

  it("holds a partial marker back, then releases it when it is not one", () => {
    const p = qwen();
    expect(p.push("a < b and <tool_")).toEqual({ content: "a < b and", calls: [] });
    expect(p.push("box> is html")).toEqual({ content: " <tool_box> is html", calls: [] });
    const q = qwen();
    expect(q.push("x <tool_cal")).toEqual({ content: "x", calls: [] });
    expect(q.flush()).toEqual({ content: " <tool_cal", calls: [] });
  });

  it("keeps text with < that is no marker whole, in every split", () => {
    const text = "if a<b && c </tool or <tool_calls> then <t";
    const r = parseAllWays(setup, text);
    expect(r.content).toBe(text);
    expect(r.calls).toEqual([]);
  });

  it("drops a stray closing tag and never leaks markup into content", () => {
    const r = parseAllWays(setup, `Sure.</tool_call> ${call("get_time", "{}")}\nDone.`);
    expect(r.content).toBe("Sure.Done.");
    expect(r.content).not.toContain("tool_call");
    expect(r.calls).toHaveLength(1);
  });

  it("sends a call to an unknown tool to content as its raw markup", () => {
    const unknown = call("rm_rf", '{"path": "/"}');
    const r = parseAllWays(setup, `Try:\n${unknown}\n${call("get_time", "{}")}`);
    expect(r.content).toBe(`Try:\n${unknown}`);
    expect(r.calls).toEqual([{ id: "call_0", name: "get_time", arguments: "{}" }]);
    expect(r.callCount).toBe(1);
  });

  it("emits only the first call when parallel calls are off, dropping the others' markup", () => {
    const text = `${call("get_weather", '{"city": "Rome"}')}\n${call("get_time", "{}")}\n${call("get_weather", "{}")}`;
    const r = parseAllWays({ ...setup, parallel: false }, text);
    expect(r.calls).toEqual([{ id: "call_0", name: "get_weather", arguments: '{"city": "Rome"}' }]);
    expect(r.content).toBe("");
    expect(r.callCount).toBe(1);
  });

  it("at flush keeps a call whose name was known (arguments as far as written)", () => {
    const complete = parseAllWays(setup, '<tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}\n');
    expect(complete.calls).toEqual([{ id: "call_0", name: "get_time", arguments: '{"tz": "UTC"}' }]);
    expect(complete.callCount).toBe(1);
    const cut = parseAllWays(setup, '<tool_call>\n{"name": "get_time", "arguments": {"tz": "U');
    expect(cut.calls).toEqual([{ id: "call_0", name: "get_time", arguments: '{"tz": "U' }]);
    expect(cut.content).toBe("");
  });

  it("at flush releases a call whose name was not known as raw content", () => {
    const raw = '<tool_call>\n{"name": "get_ti';
    const r = parseAllWays(setup, `Hi ${raw}`);
    expect(r.content).toBe(`Hi ${raw}`);
    expect(r.calls).toEqual([]);
    expect(r.callCount).toBe(0);
  });

  it("releases a call without a name as raw content", () => {
    const raw = '<tool_call>{"arguments": {}}</tool_call>';
    const r = parseAllWays(setup, raw);
    expect(r.content).toBe(raw);
    expect(r.calls).toEqual([]);
  });
});
