// The simulated worker as an agentic model: tool calls in Qwen3 and Kimi K2
// markup with schema-valid arguments, parallel calls, text after tool results,
// thinking on/off, model family labels, determinism and replay.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimWorker, type SimWorker } from "../../sim/server.js";
import { assertValid, kimiCalls, qwen3Calls, qwen3Prompt, TOOLS, type Msg } from "./agent-prompts.js";
import { byChoice, collect, schedulerClient } from "./helpers.js";

type Client = ReturnType<typeof schedulerClient>;
const workers: SimWorker[] = [];
const clients: Client[] = [];
let qwen: { w: SimWorker; c: Client }; // always calls, one call
let kimi: { w: SimWorker; c: Client }; // always calls, two calls
let plain: { w: SimWorker; c: Client }; // defaults: never calls

async function start(opts: Parameters<typeof startSimWorker>[0]) {
  const w = await startSimWorker({ decodeMsPerToken: 0.2, decodeMsPerRunning: 0, ...opts });
  const c = schedulerClient(w.address);
  workers.push(w);
  clients.push(c);
  return { w, c };
}

beforeAll(async () => {
  qwen = await start({ toolCallRate: 1 });
  kimi = await start({ family: "kimi_k2", toolCallRate: 1, parallelCallRate: 1 });
  plain = await start({});
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(workers.map((w) => w.stop()));
});

let rid = 0;
async function run(t: { w: SimWorker; c: Client }, prompt: string, opts: { seed?: number; maxNewTokens?: number; stream?: boolean } = {}) {
  const ids = t.w.tokenizer.encode(prompt);
  const { frames, error } = await collect(
    t.c.generate({
      requestId: `agent-${++rid}`,
      tokenized: { inputIds: ids },
      samplingParams: { maxNewTokens: opts.maxNewTokens ?? 400, customParams: { seed: opts.seed ?? 0 } },
      stream: opts.stream ?? false,
    }),
  );
  expect(error).toBeUndefined();
  const c = byChoice(frames).get(0)!;
  const out = opts.stream ? c.streamed : c.complete!.outputIds;
  return { prompt: ids, ids: out, text: t.w.tokenizer.decode(out), complete: c.complete! };
}

const ask = (q: string): Msg[] => [{ role: "user", content: q }];

describe("model family", () => {
  it("GetModelInfo reports model_type and architectures of the family", async () => {
    const q = await qwen.c.getModelInfo({});
    expect(q.modelType).toBe("qwen3");
    expect(q.architectures).toEqual(["Qwen3ForCausalLM"]);
    const k = await kimi.c.getModelInfo({});
    expect(k.modelType).toBe("kimi_k2");
    expect(k.architectures).toEqual(["DeepseekV3ForCausalLM"]);
  });
});

describe("tool calls", () => {
  it("qwen3: one <tool_call> with schema-valid arguments, then EOS, across seeds", async () => {
    for (let seed = 0; seed < 8; seed++) {
      const r = await run(qwen, qwen3Prompt(ask("Book me a hotel in Rome"), TOOLS), { seed });
      const calls = qwen3Calls(r.text);
      expect(calls, r.text).toHaveLength(1);
      const tool = TOOLS.find((t) => t.function.name === calls[0].name)!;
      expect(tool).toBeDefined();
      assertValid(tool.function.parameters, calls[0].args);
      expect(r.text.trimEnd().endsWith("</tool_call>")).toBe(true);
      expect(r.complete.finishReason).toBe("stop");
      expect(r.complete.matchedStop).toEqual({ case: "matchedTokenId", value: qwen.w.tokenizer.imEndId });
      expect(r.text).not.toContain("<think>");
    }
  });

  it("markup is tokenized with the real tokenizer (<tool_call> is one special token)", async () => {
    const r = await run(qwen, qwen3Prompt(ask("Weather in Oslo?"), TOOLS));
    const [toolCallId] = qwen.w.tokenizer.encode("<tool_call>");
    expect(qwen.w.tokenizer.encode("<tool_call>")).toHaveLength(1);
    expect(r.ids).toContain(toolCallId);
    expect(r.ids).toEqual(qwen.w.tokenizer.encode(r.text));
  });

  it("kimi_k2: a tool-calls section with two calls to two different tools, indexed, then EOS", async () => {
    for (let seed = 0; seed < 5; seed++) {
      const r = await run(kimi, qwen3Prompt(ask("Weather in Rome and a hotel there"), TOOLS), { seed });
      const body = r.text.slice(r.text.indexOf("<|tool_calls_section_begin|>"));
      const calls = kimiCalls(body);
      expect(calls, r.text).toHaveLength(2);
      expect(new Set(calls.map((c) => c.name)).size).toBe(2);
      expect(calls.map((c) => c.index)).toEqual([0, 1]);
      for (const call of calls) assertValid(TOOLS.find((t) => t.function.name === call.name)!.function.parameters, call.args);
      expect(r.text).not.toContain("<tool_call>");
      expect(r.complete.finishReason).toBe("stop");
    }
  });

  it("qwen3 parallel: two <tool_call> blocks separated by a newline", async () => {
    const par = await start({ toolCallRate: 1, parallelCallRate: 1 });
    const r = await run(par, qwen3Prompt(ask("Weather and hotel in Paris"), TOOLS), { seed: 3 });
    const calls = qwen3Calls(r.text);
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.name)).size).toBe(2);
    expect(r.text).toContain("</tool_call>\n<tool_call>");
    // With a single tool, both calls go to it.
    const one = await run(par, qwen3Prompt(ask("Weather?"), [TOOLS[0]]), { seed: 1 });
    expect(qwen3Calls(one.text).map((c) => c.name)).toEqual(["get_weather", "get_weather"]);
  });

  it("after a tool response the model answers in a short text that ends, not with another call", async () => {
    const msgs: Msg[] = [
      ...ask("Weather in Rome?"),
      { role: "assistant", content: "", toolCalls: [{ name: "get_weather", arguments: { city: "Rome" } }] },
      { role: "tool", content: '{"temp": 21}' },
    ];
    for (const t of [qwen, kimi]) {
      const r = await run(t, qwen3Prompt(msgs, TOOLS), { maxNewTokens: 100 });
      expect(r.text).not.toContain("<tool_call>");
      expect(r.text).not.toContain("tool_calls_section");
      expect(r.text.length).toBeGreaterThan(5);
      expect(r.complete.finishReason).toBe("stop");
      expect(r.ids.length).toBeLessThan(100);
    }
  });

  it("tool_call_rate 0 (default): a short answer that ends; no tools offered: the plain text model", async () => {
    const r = await run(plain, qwen3Prompt(ask("Weather in Rome?"), TOOLS), { maxNewTokens: 100 });
    expect(r.text).not.toContain("<tool_call>");
    expect(r.complete.finishReason).toBe("stop");
    const noTools = await run(qwen, qwen3Prompt(ask("Hello"), []), { maxNewTokens: 25 });
    expect(noTools.text).not.toContain("<tool_call>");
    expect(noTools.complete.finishReason).toBe("length");
  });

  it("max_new_tokens truncates a call: finish_reason length", async () => {
    const r = await run(qwen, qwen3Prompt(ask("Book a hotel"), TOOLS), { maxNewTokens: 6 });
    expect(r.ids).toHaveLength(6);
    expect(r.complete.finishReason).toBe("length");
  });
});

describe("thinking", () => {
  it("prompt ending with the assistant header: <think> reasoning </think> then the calls", async () => {
    const r = await run(qwen, qwen3Prompt(ask("Weather in Kyoto?"), TOOLS, true));
    expect(r.text.startsWith("<think>\n")).toBe(true);
    const end = r.text.indexOf("\n</think>\n\n");
    expect(end).toBeGreaterThan(20);
    expect(qwen3Calls(r.text.slice(end))).toHaveLength(1);
    expect(r.complete.finishReason).toBe("stop");
  });

  it("prompt that already opened <think>: no second opening tag", async () => {
    const r = await run(qwen, qwen3Prompt(ask("Weather in Kyoto?"), TOOLS, "open"));
    expect(r.text).not.toContain("<think>");
    expect(r.text).toContain("</think>\n\n");
    expect(qwen3Calls(r.text)).toHaveLength(1);
  });

  it("thinking on without tools: think block then free text; off: no think block", async () => {
    const on = await run(plain, qwen3Prompt(ask("Tell me a story"), [], true), { maxNewTokens: 120 });
    expect(on.text.startsWith("<think>\n")).toBe(true);
    expect(on.text).toContain("</think>\n\n");
    expect(on.text.split("</think>\n\n")[1].length).toBeGreaterThan(0);
    const off = await run(plain, qwen3Prompt(ask("Tell me a story"), [], false), { maxNewTokens: 40 });
    expect(off.text).not.toContain("think>");
  });
});

describe("determinism", () => {
  it("stream deltas equal non-stream output; same seed same calls; another seed differs", async () => {
    const p = qwen3Prompt(ask("Book me a hotel in Rome"), TOOLS, true);
    const s = await run(kimi, p, { seed: 4, stream: true });
    const n = await run(kimi, p, { seed: 4 });
    expect(s.ids).toEqual(n.ids);
    const again = await run(kimi, p, { seed: 4 });
    expect(again.ids).toEqual(n.ids);
    const other = await run(kimi, p, { seed: 5 });
    expect(other.ids).not.toEqual(n.ids);
  });

  it("replay with prompt + first k output tokens continues with the same tokens (worker migration)", async () => {
    const p = qwen3Prompt(ask("Weather in Lima?"), TOOLS, true);
    const full = await run(qwen, p, { seed: 9 });
    for (const k of [1, 7, 25]) {
      const ids = [...full.prompt, ...full.ids.slice(0, k)];
      const { frames } = await collect(
        qwen.c.generate({ requestId: `replay-${k}`, tokenized: { inputIds: ids }, samplingParams: { maxNewTokens: 400, customParams: { seed: 9 } } }),
      );
      expect(byChoice(frames).get(0)!.complete!.outputIds).toEqual(full.ids.slice(k));
    }
  });
});
